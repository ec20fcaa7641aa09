/** Runs the driver-ceiling server on the port given as the first argument until killed. */
import { CeilingServer } from './ceiling.js';

const port = Number(process.argv[2] ?? 0);
const server = new CeilingServer();
const listening = await server.listen(port);
process.stdout.write(`ceiling listening on ${listening}\n`);
const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
