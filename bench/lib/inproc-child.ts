/**
 * Dossier.create() alone in a process, so the memory workload can measure an in-process
 * Dossier's RSS without the bench's own heap; prints its URI and waits to be killed.
 */
import { Dossier } from '../../src/index.js';

const dossier = await Dossier.create();
process.stdout.write(`${JSON.stringify({ uri: dossier.uri, port: dossier.port })}\n`);
process.once('SIGTERM', () => {
  void dossier.stop().then(() => process.exit(0));
});
