/**
 * The driver ceiling: a wire server that does no work. It answers every command with a canned
 * reply shaped so the official driver's paths succeed (handshake as a replica-set primary,
 * streaming hello, sessions, transactions, findOne/insert/update/find), which makes the rate a
 * workload reaches against it the most any server could give that client on this machine.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Binary, Long, ObjectId, Timestamp, type Document } from 'bson';
import {
  decodeOpMsg, decodeOpQuery, encodeOpMsg, encodeOpReply, FLAG_EXHAUST_ALLOWED, FLAG_MORE_TO_COME, FrameSplitter,
  OP_MSG, OP_QUERY, type Frame,
} from './wire.js';

export const CEILING_SET_NAME = 'rs0';
/** Same as Dossier's, so the driver takes the same code paths against both. */
const MAX_WIRE_VERSION = 25;
/** The driver asks for heartbeatFrequencyMS (10 s); mongod caps the wait at 5 minutes. */
const HELLO_AWAIT_MS_MAX = 300_000;

export class CeilingServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly processId = new ObjectId();
  private readonly electionId = new ObjectId('7fffffff0000000000000001');
  private nextRequestId = 1;
  private nextConnectionId = 1;
  private hostPort = '';
  /** Commands answered, by name: lets a test see which paths the driver took. */
  readonly counts = new Map<string, number>();

  constructor() {
    this.server = createServer((socket) => this.accept(socket));
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    this.hostPort = `${host}:${address.port}`;
    return address.port;
  }

  get uri(): string {
    return `mongodb://${this.hostPort}/?replicaSet=${CEILING_SET_NAME}`;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    this.sockets.add(socket);
    const connectionId = this.nextConnectionId++;
    const splitter = new FrameSplitter();
    const streams: NodeJS.Timeout[] = [];
    socket.on('data', (chunk: Buffer) => {
      try {
        splitter.push(chunk, (frame) => this.onFrame(socket, connectionId, frame, streams));
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.sockets.delete(socket);
      for (const t of streams) {
        clearTimeout(t);
        this.timers.delete(t);
      }
    });
  }

  private onFrame(socket: Socket, connectionId: number, frame: Frame, streams: NodeJS.Timeout[]): void {
    if (frame.opCode === OP_QUERY) {
      const { query } = decodeOpQuery(frame.bytes);
      this.count(Object.keys(query)[0] ?? '');
      socket.write(encodeOpReply(this.hello(query, connectionId, true), this.nextRequestId++, frame.requestId));
      return;
    }
    if (frame.opCode !== OP_MSG) return;
    const msg = decodeOpMsg(frame.bytes);
    const name = Object.keys(msg.body)[0] ?? '';
    this.count(name);
    if (msg.flags & FLAG_MORE_TO_COME) return;
    const isHello = name === 'hello' || name === 'isMaster' || name === 'ismaster';
    if (isHello && msg.body.maxAwaitTimeMS !== undefined && msg.body.topologyVersion !== undefined) {
      this.streamHello(socket, connectionId, msg.body, frame.requestId, (msg.flags & FLAG_EXHAUST_ALLOWED) !== 0, streams);
      return;
    }
    const reply = isHello ? this.hello(msg.body, connectionId, name !== 'hello') : this.reply(name, msg.body, msg.sequences);
    socket.write(encodeOpMsg(reply, this.nextRequestId++, frame.requestId));
  }

  /**
   * The topology never changes, so an awaitable hello is answered after maxAwaitTimeMS; with
   * exhaustAllowed every reply says moreToCome and the next follows after the same wait, as
   * mongod does (the driver treats a stream that ends as a failed heartbeat).
   */
  private streamHello(socket: Socket, connectionId: number, body: Document, requestId: number, exhaust: boolean, streams: NodeJS.Timeout[]): void {
    const waitMs = Math.min(Number(body.maxAwaitTimeMS), HELLO_AWAIT_MS_MAX);
    let responseTo = requestId;
    const tick = (): void => {
      this.timers.delete(timer);
      if (socket.destroyed) return;
      const id = this.nextRequestId++;
      socket.write(encodeOpMsg(this.hello(body, connectionId, Object.keys(body)[0] !== 'hello'), id, responseTo, exhaust ? FLAG_MORE_TO_COME : 0));
      responseTo = id;
      if (exhaust) {
        timer = setTimeout(tick, waitMs);
        this.timers.add(timer);
        streams.push(timer);
      }
    };
    let timer = setTimeout(tick, waitMs);
    this.timers.add(timer);
    streams.push(timer);
  }

  private count(name: string): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
  }

  private clusterFields(): Document {
    const now = new Timestamp({ t: Math.floor(Date.now() / 1000), i: 1 });
    return {
      $clusterTime: { clusterTime: now, signature: { hash: new Binary(Buffer.alloc(20)), keyId: Long.fromNumber(0) } },
      operationTime: now,
    };
  }

  private hello(body: Document, connectionId: number, legacy: boolean): Document {
    const now = new Timestamp({ t: Math.floor(Date.now() / 1000), i: 1 });
    const opTime = { ts: now, t: Long.fromNumber(1) };
    const date = new Date();
    const reply: Document = {
      topologyVersion: { processId: this.processId, counter: Long.fromNumber(0) },
      hosts: [this.hostPort],
      setName: CEILING_SET_NAME,
      setVersion: 1,
      [legacy ? 'ismaster' : 'isWritablePrimary']: true,
      secondary: false,
      primary: this.hostPort,
      me: this.hostPort,
      electionId: this.electionId,
      lastWrite: { opTime, lastWriteDate: date, majorityOpTime: opTime, majorityWriteDate: date },
      maxBsonObjectSize: 16 * 1024 * 1024,
      maxMessageSizeBytes: 48_000_000,
      maxWriteBatchSize: 100_000,
      localTime: date,
      logicalSessionTimeoutMinutes: 30,
      connectionId,
      minWireVersion: 0,
      maxWireVersion: MAX_WIRE_VERSION,
      readOnly: false,
      ok: 1,
      ...this.clusterFields(),
    };
    if (body.helloOk === true) reply.helloOk = true;
    return reply;
  }

  private reply(name: string, body: Document, sequences: Map<string, Document[]>): Document {
    const base = { ok: 1, ...this.clusterFields() };
    const collection = String(body[name]);
    const ns = `${String(body.$db)}.${collection}`;
    switch (name) {
      case 'insert': {
        const docs = sequences.get('documents') ?? (Array.isArray(body.documents) ? (body.documents as Document[]) : []);
        return { n: docs.length, ...base };
      }
      case 'update': {
        const updates = sequences.get('updates') ?? (Array.isArray(body.updates) ? (body.updates as Document[]) : []);
        return { n: updates.length, nModified: updates.length, ...base };
      }
      case 'delete': {
        const deletes = sequences.get('deletes') ?? (Array.isArray(body.deletes) ? (body.deletes as Document[]) : []);
        return { n: deletes.length, ...base };
      }
      case 'find': {
        // One document whose _id echoes the filter's, with the fields the workloads read.
        const filter = (body.filter ?? {}) as Document;
        const doc: Document = { _id: filter._id ?? 0, balance: 1000, k: filter.k ?? 0, n: 0 };
        return { cursor: { firstBatch: [doc], id: Long.fromNumber(0), ns }, ...base };
      }
      case 'aggregate':
        return { cursor: { firstBatch: [], id: Long.fromNumber(0), ns }, ...base };
      case 'getMore':
        return { cursor: { nextBatch: [], id: Long.fromNumber(0), ns }, ...base };
      case 'count':
        return { n: 0, ...base };
      default:
        // ping, endSessions, commitTransaction, abortTransaction, createIndexes, drop...: all succeed.
        return base;
    }
  }
}
