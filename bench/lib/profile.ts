/**
 * Summarises a V8 .cpuprofile of the server by layer: self time of each sampled function,
 * attributed to the src/ folder it lives in (wire, commands, storage...), to bson, to Node's
 * own code (sockets, streams) or to GC — "where the time goes" without opening a profiler.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function layerOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'V8 (program)';
  // Native stream writes: on loopback the kernel delivers to the reader inside the write call.
  if (url === '' && /^(writeBuffer|writev|writeUtf8String|writeLatin1String)$/.test(functionName)) return 'socket writes (native)';
  const src = /\/src\/([a-z]+)\//.exec(url);
  if (src && !url.includes('node_modules')) return `src/${src[1]}`;
  if (url.includes('node_modules/bson')) return 'bson (encode/decode)';
  if (url.includes('node_modules/lmdb') || url.includes('node_modules/msgpackr')) return 'lmdb';
  if (url.includes('node_modules/pino') || url.includes('sonic-boom')) return 'logging';
  if (url.includes('node_modules/')) return 'other packages';
  if (url.startsWith('node:')) return 'Node (net, streams, timers)';
  return url === '' ? 'native (other)' : 'other';
}

/** Milliseconds of self time per layer, over every profile in `dir`. */
export function summariseProfiles(dir: string): Map<string, number> {
  const byLayer = new Map<string, number>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const layerById = new Map<number, string>();
    for (const n of profile.nodes) layerById.set(n.id, layerOf(n.callFrame.url, n.callFrame.functionName));
    for (let i = 0; i < profile.samples.length; i++) {
      const layer = layerById.get(profile.samples[i]!) ?? 'other';
      byLayer.set(layer, (byLayer.get(layer) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
    }
  }
  return byLayer;
}
