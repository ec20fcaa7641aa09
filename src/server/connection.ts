/**
 * One client connection: frames in, commands through the dispatcher, replies out, one request at
 * a time as mongod does per connection. A frame that cannot be parsed gets an error reply when its
 * boundary is known; the connection is closed only when the byte stream cannot be trusted.
 */
import type { Socket } from 'node:net';
import type { Document } from '../bson/index.js';
import { dispatchCommand, type ConnectionInfo, type Instance } from '../commands/index.js';
import { errorReply, isOkReply, toDossierError } from '../commands/replies.js';
import {
  FrameReader, WireError, decodeMessage, encodeOpMsgReply, encodeOpReply, compressFrame,
  type DecodedMessage, type CompressorIdValue,
} from '../wire/index.js';
import { DossierError, ErrorCodes } from '../base/index.js';

const OP_QUERY_COMMANDS = new Set(['isMaster', 'ismaster', 'hello']);

export class Connection {
  readonly info: ConnectionInfo;
  private readonly reader = new FrameReader();
  private busy = false;
  private nextRequestId = 1;

  constructor(
    private readonly socket: Socket,
    private readonly instance: Instance,
    id: number,
    private readonly onClose: (c: Connection) => void,
  ) {
    this.info = {
      id,
      remote: `${socket.remoteAddress ?? 'unknown'}:${socket.remotePort ?? 0}`,
      local: `${socket.localAddress ?? 'unknown'}:${socket.localPort ?? 0}`,
      clientMetadata: undefined,
      helloDone: false,
      closed: false,
      connectedAtMs: instance.clock.nowMs(),
    };
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.reader.push(chunk);
      void this.pump();
    });
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  close(): void {
    if (this.info.closed) return;
    this.info.closed = true;
    this.socket.destroy();
    this.onClose(this);
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (;;) {
        if (this.info.closed) return;
        let frame: Buffer | undefined;
        try {
          frame = this.reader.next();
        } catch (e) {
          this.failConnection(e);
          return;
        }
        if (!frame) return;
        await this.handleFrame(frame);
      }
    } finally {
      this.busy = false;
    }
  }

  private failConnection(e: unknown): void {
    if (e instanceof WireError && e.httpResponse) this.socket.end(e.httpResponse);
    this.instance.log.debug({ err: e, connectionId: this.info.id }, 'closing connection on unrecoverable wire error');
    this.close();
  }

  private async handleFrame(frame: Buffer): Promise<void> {
    let msg: DecodedMessage;
    try {
      msg = decodeMessage(frame);
    } catch (e) {
      if (e instanceof WireError && !e.closeConnection && e.replyTo) {
        if (!e.replyTo.moreToCome) {
          const reply = errorReply(e);
          this.send(e.replyTo.protocol === 'msg' ? encodeOpMsgReply(reply, e.replyTo.requestId, this.nextRequestId++) : encodeOpReply(reply, e.replyTo.requestId, this.nextRequestId++), e.replyTo.compressorId);
        }
        return;
      }
      this.failConnection(e);
      return;
    }
    switch (msg.opCode) {
      case 'query':
        await this.handleOpQuery(msg);
        return;
      case 'msg':
        await this.handleOpMsg(msg);
        return;
      case 'unsupported':
        // mongod 6.0+ no longer serves the legacy opcodes: it logs and answers nothing.
        this.instance.log.warn({ connectionId: this.info.id, opCode: msg.rawOpCode }, 'Operation is not supported');
        return;
    }
  }

  private async handleOpMsg(msg: Extract<DecodedMessage, { opCode: 'msg' }>): Promise<void> {
    const body = msg.body;
    const db = body.$db;
    if (typeof db !== 'string') {
      const reply = errorReply(new DossierError(40571, 'OP_MSG requests require a $db argument'));
      if (!msg.flags.moreToCome) this.send(encodeOpMsgReply(reply, msg.requestId, this.nextRequestId++), msg.compressorId);
      return;
    }
    const first = await dispatchCommand(this.instance, this.info, db, body);
    if (first.closeConnection) {
      this.close();
      return;
    }
    let { reply } = first;
    if (msg.flags.moreToCome || this.info.closed) return;
    // The exhaust protocol: a streaming hello keeps answering, each reply flagged moreToCome,
    // until the client goes away; every later reply waits for a topology change or maxAwaitTimeMS.
    let responseTo = msg.requestId;
    if (msg.flags.exhaustAllowed && isStreamingHello(body) && isOkReply(reply)) {
      let request: Document = body;
      while (!this.info.closed && !this.instance.isClosed) {
        const requestId = this.nextRequestId++;
        this.send(encodeOpMsgReply(reply, responseTo, requestId, { moreToCome: true }), msg.compressorId);
        responseTo = requestId;
        request = { ...request, topologyVersion: reply.topologyVersion };
        ({ reply } = await dispatchCommand(this.instance, this.info, db, request));
        if (!isOkReply(reply)) break;
      }
      if (this.info.closed) return;
    }
    this.send(encodeOpMsgReply(reply, responseTo, this.nextRequestId++), msg.compressorId);
  }

  private async handleOpQuery(msg: Extract<DecodedMessage, { opCode: 'query' }>): Promise<void> {
    const query = msg.query;
    const name = Object.keys(query)[0] ?? '';
    const [db, coll] = splitNamespace(msg.fullCollectionName);
    let reply: Document;
    if (coll === '$cmd' && OP_QUERY_COMMANDS.has(name)) {
      reply = (await dispatchCommand(this.instance, this.info, db, query)).reply;
    } else {
      reply = errorReply(
        new DossierError(
          ErrorCodes.UnsupportedOpQueryCommand,
          `Unsupported OP_QUERY command: ${coll === '$cmd' ? name : 'find'}. The client driver may require an upgrade. For more details see https://dochub.mongodb.org/core/legacy-opcode-removal`,
        ),
      );
    }
    if (this.info.closed) return;
    this.send(encodeOpReply(reply, msg.requestId, this.nextRequestId++), msg.compressorId);
  }

  private send(frame: Buffer, compressorId: CompressorIdValue | undefined): void {
    if (this.info.closed) return;
    try {
      this.socket.write(compressorId !== undefined ? compressFrame(frame, compressorId) : frame);
    } catch (e) {
      this.instance.log.error({ err: toDossierError(e), connectionId: this.info.id }, 'failed to send a reply');
      this.close();
    }
  }
}

function isStreamingHello(body: Document): boolean {
  const name = Object.keys(body)[0];
  return (name === 'hello' || name === 'isMaster' || name === 'ismaster') && body.maxAwaitTimeMS !== undefined && body.topologyVersion !== undefined;
}

function splitNamespace(ns: string): [string, string] {
  const dot = ns.indexOf('.');
  return dot < 0 ? [ns, ''] : [ns.slice(0, dot), ns.slice(dot + 1)];
}
