/**
 * setParameter: changes server parameters at runtime, as mongod's CmdSet does. Every named
 * parameter is checked first (known, settable at runtime), then they are set in name order and
 * the reply carries `was`: the previous value of the first one set.
 */
import { fail } from '../../base/index.js';
import { formatValue, type BsonValue, type Document } from '../../bson/index.js';
import { isGenericArgument } from '../generic.js';
import type { CommandDefinition } from '../types.js';
import { settability } from './getParameter.js';

export const setParameterCommand: CommandDefinition = {
  name: 'setParameter',
  help: 'set administrative option(s)\n{ setParameter:1, <param>:<value> }\n',
  kind: 'admin',
  adminOnly: true,
  run(ctx) {
    const params = ctx.instance.parameters;
    const toSet = new Map<string, BsonValue>();
    const [, ...fields] = Object.keys(ctx.body);
    for (const name of fields) {
      if (isGenericArgument(name)) continue;
      if (!params.has(name)) fail('InvalidOptions', `attempted to set unrecognized parameter [${name}], use help:true to see options `);
      if (!settability(params, name).runtime) fail('IllegalOperation', `not allowed to change [${name}] at runtime`);
      toSet.set(name, ctx.body[name]);
    }
    if (toSet.size === 0) fail('InvalidOptions', 'no option found to set, use help:true to see options ');
    const reply: Document = {};
    // mongod walks a std::map, so parameters are set in name order; `was` is the first one's.
    for (const name of [...toSet.keys()].sort()) {
      const old = params.set(name, toSet.get(name), 'runtime');
      if (!('was' in reply)) reply.was = old;
      ctx.instance.log.info({ parameterName: name, newValue: formatValue(toSet.get(name)), oldValue: formatValue(old) }, 'Successfully set parameter to new value');
    }
    return reply;
  },
};
