/** What the command layer knows of the client connection a command arrived on. */
import type { Document } from '../bson/index.js';

export interface ConnectionInfo {
  readonly id: number;
  /** "host:port" of the client, as whatsmyuri and currentOp show it. */
  readonly remote: string;
  /** The address the client connected to, "host:port". */
  readonly local: string;
  /** The `client` metadata from the first hello, if any. */
  clientMetadata: Document | undefined;
  /** Whether hello has been answered once (client metadata may be set only then). */
  helloDone: boolean;
  /** Set when the client closed the socket; waiting commands give up. */
  closed: boolean;
  readonly connectedAtMs: number;
}
