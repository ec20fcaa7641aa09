import { BSON_OBJECT_SIZE_MAX_BYTES, SERVER_VERSION, SERVER_VERSION_ARRAY } from '../../base/limits.js';
import type { CommandDefinition } from '../types.js';

export const buildInfoCommand: CommandDefinition = {
  name: 'buildInfo',
  aliases: ['buildinfo'],
  help: 'Describes this build: the MongoDB version Dossier answers as, and how it is built.',
  kind: 'diagnostic',
  noAuth: true,
  allowedInTransaction: true,
  run: () => ({
    version: SERVER_VERSION,
    gitVersion: 'dossier',
    modules: [],
    allocator: 'system',
    javascriptEngine: 'none',
    sysInfo: 'deprecated',
    versionArray: [...SERVER_VERSION_ARRAY],
    openssl: { running: 'disabled', compiled: 'disabled' },
    buildEnvironment: { distmod: 'dossier', distarch: process.arch, target_os: process.platform, cc: 'node', ccflags: '', cxx: '', cxxflags: '', linkflags: '' },
    bits: 64,
    debug: false,
    maxBsonObjectSize: BSON_OBJECT_SIZE_MAX_BYTES,
    storageEngines: ['inMemory'],
    dossier: { node: process.version },
  }),
};
