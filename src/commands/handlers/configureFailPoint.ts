/**
 * configureFailPoint: the test-only command that turns fail points on and off (mongod's
 * src/mongo/db/commands/fail_point_cmd.cpp). `{configureFailPoint: <name>, mode, data}` on admin;
 * replies `{count: <times the fail point was entered so far>}`. Hidden unless enableTestCommands.
 */
import { failPointsOf } from '../failpoints.js';
import type { CommandDefinition } from '../types.js';

export const configureFailPointCommand: CommandDefinition = {
  name: 'configureFailPoint',
  help: 'modifies the settings of a fail point',
  kind: 'admin',
  adminOnly: true,
  testOnly: true,
  options: ['mode', 'data'],
  run(ctx) {
    const count = failPointsOf(ctx.instance).configure(ctx.body);
    return { count };
  },
};
