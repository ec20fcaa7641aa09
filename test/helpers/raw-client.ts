/**
 * A raw TCP client for wire-level tests: sends bytes exactly as given and collects whatever the
 * server answers (complete frames) until a reply arrives, the socket closes, or time runs out.
 */
import { connect, type Socket } from 'node:net';
import { readReply, type ReplyFrame } from '../unit/wire/frames.js';

export interface RawExchange {
  replies: ReplyFrame[];
  closed: boolean;
}

export class RawClient {
  private buffer = Buffer.alloc(0);
  private closedFlag = false;
  private waiters: Array<() => void> = [];

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.closedFlag = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host: '127.0.0.1' }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private takeFrame(): Buffer | undefined {
    if (this.buffer.length < 4) return undefined;
    const len = this.buffer.readInt32LE(0);
    if (this.buffer.length < len) return undefined;
    const frame = this.buffer.subarray(0, len);
    this.buffer = this.buffer.subarray(len);
    return frame;
  }

  /** Sends `bytes`, then waits for `expectReplies` frames (or close, or `timeoutMs`). */
  async exchange(bytes: Buffer, options: { expectReplies?: number; timeoutMs?: number } = {}): Promise<RawExchange> {
    const want = options.expectReplies ?? 1;
    const deadline = Date.now() + (options.timeoutMs ?? 1000);
    const replies: ReplyFrame[] = [];
    if (!this.closedFlag) this.socket.write(bytes);
    while (replies.length < want && !this.closedFlag) {
      let frame: Buffer | undefined;
      while ((frame = this.takeFrame()) !== undefined) replies.push(readReply(frame));
      if (replies.length >= want) break;
      const left = deadline - Date.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    let frame: Buffer | undefined;
    while ((frame = this.takeFrame()) !== undefined) replies.push(readReply(frame));
    return { replies, closed: this.closedFlag };
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Sends one command over its own raw connection and returns the reply document, exactly as the
 * server sent it. Unlike the driver, it sends lsid/txnNumber/autocommit as given.
 */
export class RawCommander {
  private constructor(private readonly client: RawClient) {}

  static async open(port: number): Promise<RawCommander> {
    return new RawCommander(await RawClient.open(port));
  }

  async run(db: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { opMsgCommand } = await import('../unit/wire/frames.js');
    const r = await this.client.exchange(opMsgCommand({ ...body, $db: db } as never), { timeoutMs: 5000 });
    const doc = r.replies[0]?.documents[0];
    if (!doc) throw new Error('no reply');
    return doc as Record<string, unknown>;
  }

  close(): void {
    this.client.close();
  }
}
