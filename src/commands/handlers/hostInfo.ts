/**
 * hostInfo: what mongod reports about the machine it runs on, read from Node's `os` module.
 * Fields mongod fills from sources Node cannot see portably (NUMA, physical cores, sockets,
 * the distribution's name from /etc/os-release) are left out rather than guessed.
 */
import * as os from 'node:os';
import { Long, type Document } from '../../bson/index.js';
import { CommandArgs } from '../args.js';
import type { CommandDefinition } from '../types.js';

const MB = 1024 * 1024;

/** mongod spells CPU architectures as uname does. */
function cpuArch(): string {
  switch (process.arch) {
    case 'x64':
      return 'x86_64';
    case 'arm64':
      return 'aarch64';
    case 'ia32':
      return 'i686';
    default:
      return process.arch;
  }
}

function cpuAddrSize(): number {
  return ['x64', 'arm64', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el'].includes(process.arch) ? 64 : 32;
}

export const hostInfoCommand: CommandDefinition = {
  name: 'hostInfo',
  help: 'returns information about the daemon\'s host',
  kind: 'diagnostic',
  run(ctx) {
    new CommandArgs('hostInfo', ctx.body).rejectUnknown([]);
    const cpus = os.cpus();
    const memSizeMb = Math.floor(os.totalmem() / MB);
    const extra: Document = {
      versionString: os.version(),
      kernelVersion: os.release(),
    };
    if (cpus.length > 0) {
      extra.cpuString = cpus[0]!.model;
      extra.cpuFrequencyMHz = String(cpus[0]!.speed);
    }
    return {
      system: {
        currentTime: new Date(ctx.instance.clock.nowMs()),
        hostname: os.hostname(),
        cpuAddrSize: cpuAddrSize(),
        memSizeMB: Long.fromNumber(memSizeMb),
        memLimitMB: Long.fromNumber(memSizeMb),
        numCores: os.availableParallelism(),
        cpuArch: cpuArch(),
      },
      os: {
        type: os.type(),
        name: os.type() === 'Darwin' ? 'Mac OS X' : os.type(),
        version: os.release(),
      },
      extra,
    };
  },
};
