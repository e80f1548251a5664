/**
 * Reliable transmission of our own CON messages (RFC 7252 §4.2, §4.8): retransmit with exponential back-off
 * until an ACK or RST with the same message id comes from the same peer. Used by the client and by CON
 * Observe notifications; only a handful are ever in flight, so one timer per outstanding CON is fine here.
 */
import { MessageType, peerKey, type CoapMessage, type Peer } from './message.js';

export interface TransmissionParameters {
  /** ACK_TIMEOUT in ms (RFC 7252 §4.8: 2 s). */
  readonly ackTimeoutMs: number;
  /** ACK_RANDOM_FACTOR (§4.8: 1.5). */
  readonly ackRandomFactor: number;
  /** MAX_RETRANSMIT (§4.8: 4). */
  readonly maxRetransmit: number;
}

export const DEFAULT_TRANSMISSION: TransmissionParameters = {
  ackTimeoutMs: 2000,
  ackRandomFactor: 1.5,
  maxRetransmit: 4,
};

export type TransmitResult =
  | { readonly kind: 'ack'; readonly message: CoapMessage }
  | { readonly kind: 'reset' }
  | { readonly kind: 'timeout' }
  /** Stopped by `cancel` or `close`, not by the peer. */
  | { readonly kind: 'cancelled' };

interface Pending {
  readonly bytes: Buffer;
  readonly peer: Peer;
  readonly resolve: (r: TransmitResult) => void;
  timer: NodeJS.Timeout | undefined;
  timeoutMs: number;
  retransmits: number;
}

export class Transmitter {
  readonly #pending = new Map<string, Pending>();
  readonly #send: (bytes: Buffer, peer: Peer) => void;
  readonly #params: TransmissionParameters;

  constructor(
    send: (bytes: Buffer, peer: Peer) => void,
    params: TransmissionParameters = DEFAULT_TRANSMISSION,
  ) {
    this.#send = send;
    this.#params = params;
  }

  /** Sends a serialized CON and resolves on its ACK, a RST, or after MAX_RETRANSMIT retransmissions. */
  send(bytes: Buffer, messageId: number, peer: Peer): Promise<TransmitResult> {
    const key = `${peerKey(peer)}|${messageId}`;
    this.#pending.get(key)?.resolve({ kind: 'cancelled' });
    return new Promise((resolve) => {
      const { ackTimeoutMs, ackRandomFactor } = this.#params;
      // RFC 7252 §4.2: the initial timeout is random in [ACK_TIMEOUT, ACK_TIMEOUT * ACK_RANDOM_FACTOR].
      const pending: Pending = {
        bytes,
        peer,
        timer: undefined,
        timeoutMs: ackTimeoutMs * (1 + Math.random() * (ackRandomFactor - 1)),
        retransmits: 0,
        resolve: (result) => {
          clearTimeout(pending.timer);
          if (this.#pending.get(key) === pending) this.#pending.delete(key);
          resolve(result);
        },
      };
      this.#pending.set(key, pending);
      this.#transmit(pending);
    });
  }

  #transmit(pending: Pending): void {
    this.#send(pending.bytes, pending.peer);
    pending.timer = setTimeout(() => {
      if (pending.retransmits >= this.#params.maxRetransmit) {
        pending.resolve({ kind: 'timeout' });
        return;
      }
      pending.retransmits++;
      pending.timeoutMs *= 2;
      this.#transmit(pending);
    }, pending.timeoutMs);
  }

  /** Feeds an incoming ACK or RST; returns true when it matched one of our CONs (RFC 7252 §4.2). */
  handle(message: CoapMessage, peer: Peer): boolean {
    if (message.type !== MessageType.ACK && message.type !== MessageType.RST) return false;
    const pending = this.#pending.get(`${peerKey(peer)}|${message.messageId}`);
    if (pending === undefined) return false;
    pending.resolve(message.type === MessageType.ACK ? { kind: 'ack', message } : { kind: 'reset' });
    return true;
  }

  /** Stops retransmitting one CON, e.g. a notification superseded by a newer one (RFC 7641 §4.5.2). */
  cancel(messageId: number, peer: Peer): void {
    this.#pending.get(`${peerKey(peer)}|${messageId}`)?.resolve({ kind: 'cancelled' });
  }

  close(): void {
    for (const pending of [...this.#pending.values()]) pending.resolve({ kind: 'cancelled' });
  }
}
