/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of OP_MSG's optional trailing
 * uint32 and of every journal record and checkpoint value. Node 20 has no CRC-32C (node:zlib's crc32, from 22.2, is the other polynomial), so this is
 * the classic slicing-by-4 table method: four 256-entry tables let the loop consume 4 bytes per step,
 * which matters for 48 MB messages.
 */

const POLYNOMIAL = 0x82f63b78;

const TABLES: Uint32Array[] = (() => {
  const t0 = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    t0[n] = c >>> 0;
  }
  const tables = [t0, new Uint32Array(256), new Uint32Array(256), new Uint32Array(256)];
  for (let n = 0; n < 256; n++) {
    let c = t0[n]!;
    for (let k = 1; k < 4; k++) {
      c = t0[c & 0xff]! ^ (c >>> 8);
      tables[k]![n] = c >>> 0;
    }
  }
  return tables;
})();

/** CRC-32C of bytes[start, end); pass an earlier result as `previous` to continue it over more bytes. */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length, previous = 0): number {
  const [t0, t1, t2, t3] = TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let crc = (previous ^ 0xffffffff) >>> 0;
  let i = start;
  for (const stop4 = end - ((end - start) & 3); i < stop4; i += 4) {
    crc ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    crc = t3[crc & 0xff]! ^ t2[(crc >>> 8) & 0xff]! ^ t1[(crc >>> 16) & 0xff]! ^ t0[crc >>> 24]!;
  }
  for (; i < end; i++) crc = t0[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
