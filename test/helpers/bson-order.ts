/**
 * Field order straight from BSON bytes. The driver decodes replies into plain objects, and
 * JavaScript lists integer-like keys ("0", "12") first whatever their BSON position, so tests of
 * field order read the bytes a `raw: true` call returns instead.
 */
function int32(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
}

/** Each element of the document at `at`: its name, type byte and value offset. */
function elements(b: Uint8Array, at: number): Array<{ name: string; type: number; value: number }> {
  const out: Array<{ name: string; type: number; value: number }> = [];
  const end = at + int32(b, at);
  let pos = at + 4;
  while (pos < end - 1) {
    const type = b[pos]!;
    let nul = pos + 1;
    while (b[nul] !== 0) nul++;
    const name = Buffer.from(b.buffer, b.byteOffset + pos + 1, nul - pos - 1).toString('utf8');
    const value = nul + 1;
    out.push({ name, type, value });
    pos = value + valueLength(b, type, value);
  }
  return out;
}

function valueLength(b: Uint8Array, type: number, at: number): number {
  switch (type) {
    case 0x01: case 0x09: case 0x11: case 0x12: return 8;
    case 0x07: return 12;
    case 0x10: return 4;
    case 0x13: return 16;
    case 0x08: return 1;
    case 0x06: case 0x0a: case 0xff: case 0x7f: return 0;
    case 0x02: case 0x0d: case 0x0e: return 4 + int32(b, at);
    case 0x0c: return 16 + int32(b, at);
    case 0x05: return 5 + int32(b, at);
    case 0x03: case 0x04: case 0x0f: return int32(b, at);
    case 0x0b: {
      let p = at;
      while (b[p] !== 0) p++;
      p++;
      while (b[p] !== 0) p++;
      return p + 1 - at;
    }
    default: throw new Error(`unknown BSON type ${type}`);
  }
}

/** The field names, in BSON order, of the document reached from `raw` through `path` (names, or array indexes as strings). */
export function fieldNames(raw: Uint8Array, path: readonly string[] = []): string[] {
  let at = 0;
  for (const step of path) {
    const e = elements(raw, at).find((x) => x.name === step);
    if (!e || (e.type !== 0x03 && e.type !== 0x04)) throw new Error(`no document at ${path.join('.')}`);
    at = e.value;
  }
  return elements(raw, at).map((e) => e.name);
}
