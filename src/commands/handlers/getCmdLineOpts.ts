/** getCmdLineOpts: the options this server was started with, raw (argv) and parsed (mongod's YAML shape). */
import { CommandArgs } from '../args.js';
import type { CommandDefinition } from '../types.js';

export const getCmdLineOptsCommand: CommandDefinition = {
  name: 'getCmdLineOpts',
  help: 'get argv',
  kind: 'diagnostic',
  adminOnly: true,
  run(ctx) {
    new CommandArgs('getCmdLineOpts', ctx.body).rejectUnknown([]);
    const { argv, parsed } = ctx.instance.config;
    return { argv: [...argv], parsed };
  },
};
