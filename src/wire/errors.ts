import { DossierError, ErrorCodes, type CodeName } from '../base/index.js';
import type { CompressorIdValue } from './constants.js';

/**
 * Where an error reply to a bad request goes, when the connection survives the error. mongod
 * answers a parse error in the protocol of the request (OP_MSG or OP_REPLY), with the request's
 * compressor, and does not answer at all when the request carried moreToCome.
 */
export interface ReplyTarget {
  readonly protocol: 'msg' | 'query';
  readonly requestId: number;
  readonly compressorId: CompressorIdValue | undefined;
  readonly moreToCome: boolean;
}

/**
 * A wire-level failure. `closeConnection` says what mongod does: true when the byte stream cannot
 * be trusted any more (bad length, bad compression) or when the code is in mongod's
 * ConnectionFatalMessageParseError category (IllegalOpMsgFlag, TooManyDocumentSequences,
 * ChecksumMismatch); otherwise mongod sends the error as a command reply and reads on.
 */
export class WireError extends DossierError {
  readonly closeConnection: boolean;
  /** Present when an error reply can (and, unless moreToCome, should) be sent. */
  readonly replyTo: ReplyTarget | undefined;
  /** Bytes to write before closing (mongod's answer to an HTTP request on the native port). */
  readonly httpResponse: Buffer | undefined;

  constructor(
    code: number,
    errmsg: string,
    options: { closeConnection: boolean; replyTo?: ReplyTarget | undefined; httpResponse?: Buffer | undefined },
  ) {
    super(code, errmsg);
    this.name = 'WireError';
    this.closeConnection = options.closeConnection;
    this.replyTo = options.closeConnection ? undefined : options.replyTo;
    this.httpResponse = options.httpResponse;
  }
}

/** mongod's ConnectionFatalMessageParseError category (error_codes.yml). */
const CONNECTION_FATAL_PARSE_CODES: ReadonlySet<number> = new Set([
  ErrorCodes.IllegalOpMsgFlag,
  ErrorCodes.TooManyDocumentSequences,
  ErrorCodes.ChecksumMismatch,
]);

export function isConnectionFatalParseCode(code: number): boolean {
  return CONNECTION_FATAL_PARSE_CODES.has(code);
}

/** An error the stream cannot recover from: the connection must be closed, nothing is replied. */
export function fatalWireError(name: CodeName, errmsg: string, httpResponse?: Buffer): WireError {
  return new WireError(ErrorCodes[name], errmsg, { closeConnection: true, httpResponse });
}

/**
 * A parse failure of one request whose frame boundary is known. The parsers throw plain
 * DossierErrors (they do not know the reply context); decodeMessage wraps them with this.
 */
export function requestParseError(error: DossierError, replyTo: ReplyTarget): WireError {
  if (error instanceof WireError) return error;
  return new WireError(error.code, error.message, {
    closeConnection: isConnectionFatalParseCode(error.code),
    replyTo,
  });
}
