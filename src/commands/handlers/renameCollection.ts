import { fail } from '../../base/index.js';
import { CommandArgs } from '../args.js';
import { validateCollectionName } from '../namespaces.js';
import type { CommandDefinition } from '../types.js';
import { lookupView } from '../views.js';

function splitNs(field: string, ns: string): [string, string] {
  const dot = ns.indexOf('.');
  if (dot <= 0 || dot === ns.length - 1) fail('InvalidNamespace', `Invalid ${field} namespace: ${ns}`);
  return [ns.slice(0, dot), ns.slice(dot + 1)];
}

export const renameCollectionCommand: CommandDefinition = {
  name: 'renameCollection',
  help: 'Renames a collection (admin database): renameCollection: "db.from", to: "db.to", dropTarget.',
  kind: 'write',
  adminOnly: true,
  options: ['to', 'dropTarget', 'stayTemp'],
  run(ctx) {
    const a = new CommandArgs('renameCollection', ctx.body);
    a.rejectUnknown(['to', 'dropTarget', 'stayTemp', 'collectionUUID']);
    const from = a.required('renameCollection', a.string);
    const to = a.required('to', a.string);
    const dropTarget = a.bool('dropTarget') ?? false;
    const [fromDb, fromName] = splitNs('source', from);
    const [toDb, toName] = splitNs('target', to);
    validateCollectionName(toDb, toName, { forWrite: true });
    if (from === to) fail('IllegalOperation', "Can't rename a collection to itself");
    const source = ctx.instance.getCollection(fromDb, fromName);
    if (!source && lookupView(ctx.instance, fromDb, fromName)) fail('CommandNotSupportedOnView', `cannot rename view: ${from}`);
    if (!source) fail('NamespaceNotFound', `Source collection ${from} does not exist`);
    if (lookupView(ctx.instance, toDb, toName)) fail('NamespaceExists', `a view already exists with that name: ${toDb}.${toName}`);
    if (fromDb === 'local' || toDb === 'local') fail('IllegalOperation', 'Cannot rename collections between a replicated and an unreplicated database');
    const target = ctx.instance.getCollection(toDb, toName);
    if (target && !dropTarget) fail('NamespaceExists', 'target namespace exists');
    ctx.instance.cursors.killWhere((c) => (c.ns === from || c.ns === to) && !c.changeStream);
    ctx.instance.engine.renameCollection(source, toDb, toName, target);
    return {};
  },
};
