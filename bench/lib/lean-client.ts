/**
 * The lean wire client: one socket, one command in flight, prebuilt OP_MSG frames patched per
 * request (see FrameTemplate), replies decoded only as far as the workload needs. It measures
 * what the server can do, without the ~150–230 µs of CPU the official driver spends per command.
 */
import { connect, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Binary, type Document } from 'bson';
import { FrameSplitter, replyBody, type Frame } from './wire.js';

export class LeanConnection {
  private readonly splitter = new FrameSplitter();
  private waiting: { resolve: (frame: Frame) => void; reject: (e: Error) => void } | undefined;
  private nextRequestId = 1;
  /** One logical session per connection; its id goes into transactional templates. */
  readonly lsid = { id: new Binary(Buffer.from(randomUUID().replace(/-/g, ''), 'hex'), Binary.SUBTYPE_UUID) };
  txnNumber = 0;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.splitter.push(chunk, (frame) => {
        const w = this.waiting;
        this.waiting = undefined;
        w?.resolve(frame);
      });
    });
    const fail = (e: Error): void => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.reject(e);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  static open(port: number, host = '127.0.0.1'): Promise<LeanConnection> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host }, () => resolve(new LeanConnection(s)));
      s.once('error', reject);
    });
  }

  requestId(): number {
    return this.nextRequestId++;
  }

  /** Sends one frame (built with `requestId()`) and waits for its reply. */
  send(frame: Buffer): Promise<Frame> {
    if (this.waiting) throw new Error('one command in flight per connection');
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(frame);
    });
  }

  /** Sends a frame and decodes the reply body; a reply with ok: 0 or write errors becomes a CommandFailed. */
  async command(frame: Buffer): Promise<Document> {
    const reply = replyBody((await this.send(frame)).bytes);
    if (reply.ok !== 1) throw new CommandFailed(reply);
    const writeErrors = reply.writeErrors as Document[] | undefined;
    if (writeErrors && writeErrors.length > 0) throw new CommandFailed({ ...writeErrors[0], errorLabels: reply.errorLabels });
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }
}

export class CommandFailed extends Error {
  readonly code: number;
  readonly labels: string[];

  constructor(readonly reply: Document) {
    super(`${String(reply.codeName ?? 'error')} (${String(reply.code)}): ${String(reply.errmsg)}`);
    this.code = Number(reply.code);
    this.labels = Array.isArray(reply.errorLabels) ? (reply.errorLabels as string[]) : [];
  }

  /** Conflicts and the like: the whole transaction may be retried. */
  get transient(): boolean {
    return this.labels.includes('TransientTransactionError') || this.code === 112;
  }

  get unknownCommitResult(): boolean {
    return this.labels.includes('UnknownTransactionCommitResult');
  }
}
