/**
 * getParameter: reads server parameters, as mongod's CmdGet does. Three request forms:
 * `{getParameter: 1, <name>: 1, ...}` (only the named ones; unknown names are ignored as long as
 * one is found), `{getParameter: '*'}` (all), and `{getParameter: {allParameters, showDetails,
 * setAt}, ...}`. With showDetails each value becomes `{value, settableAtRuntime, settableAtStartup}`.
 */
import { fail } from '../../base/index.js';
import { isDocument, type BsonValue, type Document } from '../../bson/index.js';
import { CommandArgs } from '../args.js';
import type { Parameters } from '../parameters.js';
import type { CommandDefinition } from '../types.js';

interface GetParameterOptions {
  allParameters: boolean;
  showDetails: boolean;
  setAt: 'startup' | 'runtime' | undefined;
  /** forIncrementalFeatureRollout: Dossier has no such flags, so the filter leaves nothing. */
  incrementalRolloutOnly: boolean;
}

const OPTION_FIELDS = ['allParameters', 'showDetails', 'setAt', 'forIncrementalFeatureRollout'] as const;

function parseOptions(first: BsonValue): GetParameterOptions {
  if (first === '*') return { allParameters: true, showDetails: false, setAt: undefined, incrementalRolloutOnly: false };
  if (!isDocument(first)) return { allParameters: false, showDetails: false, setAt: undefined, incrementalRolloutOnly: false };
  // The options document is an IDL struct parsed with the context "getParameter".
  const a = new CommandArgs('getParameter', first);
  for (const k of Object.keys(first)) {
    if (!(OPTION_FIELDS as readonly string[]).includes(k)) fail('IDLUnknownField', `BSON field 'getParameter.${k}' is an unknown field.`);
  }
  const setAt = a.string('setAt');
  if (setAt !== undefined && setAt !== 'startup' && setAt !== 'runtime') {
    fail('BadValue', `Enumeration value '${setAt}' for field 'getParameter.setAt' is not a valid value.`);
  }
  return {
    allParameters: a.bool('allParameters') ?? false,
    showDetails: a.bool('showDetails') ?? false,
    setAt,
    incrementalRolloutOnly: a.bool('forIncrementalFeatureRollout') ?? false,
  };
}

export function settability(params: Parameters, name: string): { runtime: boolean; startup: boolean } {
  return params.settableAt(name);
}

export const getParameterCommand: CommandDefinition = {
  name: 'getParameter',
  help:
    'get administrative option(s)\nexample:\n{ getParameter:1, notablescan:1 }\n' +
    'pass a document as the value for getParameter to request options\nexample:\n' +
    "{ getParameter:{showDetails: true}, notablescan:1}\n{ getParameter:'*' } or { getParameter:{allParameters: true} } to get everything\n",
  kind: 'diagnostic',
  adminOnly: true,
  run(ctx) {
    const { body } = ctx;
    const params = ctx.instance.parameters;
    const options = parseOptions(body.getParameter);
    const reply: Document = {};
    let found = false;
    for (const name of params.names()) {
      if (!options.allParameters && !Object.prototype.hasOwnProperty.call(body, name)) continue;
      if (options.incrementalRolloutOnly) continue;
      const settable = settability(params, name);
      if (options.setAt === 'runtime' && !settable.runtime) continue;
      if (options.setAt === 'startup' && !settable.startup) continue;
      const value = params.get(name);
      reply[name] = options.showDetails ? { value, settableAtRuntime: settable.runtime, settableAtStartup: settable.startup } : value;
      found = true;
    }
    if (!found) fail('InvalidOptions', 'no option found to get');
    return reply;
  },
};

