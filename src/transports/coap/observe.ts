/**
 * RFC 7641 Observe, server side. An observer is (resource, peer, token) (§4.1). Notifications re-run the
 * resource's handler with the registering request, so they are exactly what a fresh GET would return.
 *
 * Message type policy (§4.5): NON by default, since a firmware announcement loses nothing if one is dropped
 * and the next one carries the same state; every `conEvery`-th notification to an observer, and any after
 * 24 h without one, is CON, so that observers that went away are found and removed (no ACK → removed, §4.5).
 * A newer notification supersedes a CON still being retransmitted (§4.5.2).
 */
import { serialize } from './codec.js';
import { isSuccessCode, MessageType, peerKey, type Peer } from './message.js';
import type { CoapRequest } from './resource.js';
import type { Outcome } from './response.js';
import type { Route } from './router.js';
import type { Transmitter } from './transmission.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface Observer {
  readonly resourceKey: string;
  readonly peer: Peer;
  readonly token: Buffer;
  readonly request: CoapRequest;
  readonly route: Route;
  /** The registration's Block2 SZX; notifications carry block 0 of that size (RFC 7959 §3.4). */
  readonly szx: number | undefined;
  lastMessageId: number | undefined;
  pendingCon: number | undefined;
  sinceCon: number;
  lastConAt: number;
}

export interface ObserveOptions {
  /** Bound on all observers; past it a GET is answered without Observe (§4.1). Default 1000. */
  readonly maxObservers?: number;
  /**
   * Observers one source address may hold (issue 13, defect 13): one client cannot take every slot and then
   * receive every notification. Default 16.
   */
  readonly maxPerSource?: number;
  /** Every n-th notification to an observer is CON. Default 10; 1 makes all of them CON. */
  readonly conEvery?: number;
}

export interface NotifyDeps {
  readonly render: (observer: Observer, sequence: number) => Promise<Outcome>;
  readonly nextMessageId: () => number;
  readonly send: (bytes: Buffer, peer: Peer) => void;
  readonly transmitter: Transmitter;
  readonly onError: (err: unknown, observer: Observer) => void;
}

const observerKey = (peer: Peer, token: Buffer): string => `${peerKey(peer)}|${token.toString('hex')}`;

export class ObserveRegistry {
  readonly #byResource = new Map<string, Map<string, Observer>>();
  readonly #byMessage = new Map<string, Observer>();
  readonly #max: number;
  readonly #maxPerSource: number;
  readonly #perSource = new Map<string, number>();
  readonly #conEvery: number;
  #count = 0;
  // A single 24-bit counter serves every resource: each observer then sees strictly increasing values (§4.4).
  #sequence = 1;

  constructor(options: ObserveOptions = {}) {
    this.#max = options.maxObservers ?? 1000;
    this.#maxPerSource = options.maxPerSource ?? 16;
    this.#conEvery = Math.max(1, options.conEvery ?? 10);
  }

  get size(): number {
    return this.#count;
  }

  nextSequence(): number {
    this.#sequence = (this.#sequence + 1) & 0xffffff;
    return this.#sequence;
  }

  /** Adds or replaces (same peer and token, §4.1) an observer; false when the bound is reached. */
  register(observer: Omit<Observer, 'lastMessageId' | 'pendingCon' | 'sinceCon' | 'lastConAt'>): boolean {
    let observers = this.#byResource.get(observer.resourceKey);
    const key = observerKey(observer.peer, observer.token);
    const existing = observers?.get(key);
    const source = observer.peer.address;
    if (existing === undefined && this.#count >= this.#max) return false;
    if (existing === undefined && (this.#perSource.get(source) ?? 0) >= this.#maxPerSource) return false;
    if (existing !== undefined) this.#forget(existing);
    if (observers === undefined) {
      observers = new Map();
      this.#byResource.set(observer.resourceKey, observers);
    }
    observers.set(key, {
      ...observer,
      token: Buffer.from(observer.token),
      lastMessageId: undefined,
      pendingCon: undefined,
      sinceCon: 0,
      lastConAt: Date.now(),
    });
    this.#count++;
    this.#perSource.set(source, (this.#perSource.get(source) ?? 0) + 1);
    return true;
  }

  /** GET with Observe 1 (§3.6). */
  deregister(resourceKey: string, peer: Peer, token: Buffer): void {
    const observer = this.#byResource.get(resourceKey)?.get(observerKey(peer, token));
    if (observer !== undefined) this.remove(observer);
  }

  /** A RST answering one of our notifications (§3.6, §4.5). Returns true when it matched one. */
  resetByMessage(peer: Peer, messageId: number): boolean {
    const observer = this.#byMessage.get(`${peerKey(peer)}|${messageId}`);
    if (observer === undefined) return false;
    this.remove(observer);
    return true;
  }

  remove(observer: Observer): void {
    const observers = this.#byResource.get(observer.resourceKey);
    const key = observerKey(observer.peer, observer.token);
    if (observers?.get(key) !== observer) return;
    this.#forget(observer);
  }

  #forget(observer: Observer): void {
    const observers = this.#byResource.get(observer.resourceKey);
    if (observers === undefined) return;
    observers.delete(observerKey(observer.peer, observer.token));
    if (observers.size === 0) this.#byResource.delete(observer.resourceKey);
    this.#count--;
    const held = (this.#perSource.get(observer.peer.address) ?? 1) - 1;
    if (held > 0) this.#perSource.set(observer.peer.address, held);
    else this.#perSource.delete(observer.peer.address);
    if (observer.lastMessageId !== undefined) {
      this.#byMessage.delete(`${peerKey(observer.peer)}|${observer.lastMessageId}`);
    }
  }

  /** Sends one notification to every observer of `resourceKey`; resolves with how many were sent. */
  async notify(resourceKey: string, deps: NotifyDeps): Promise<number> {
    const observers = [...(this.#byResource.get(resourceKey)?.values() ?? [])];
    if (observers.length === 0) return 0;
    const sequence = this.nextSequence();
    await Promise.all(observers.map((o) => this.#notifyOne(o, sequence, deps)));
    return observers.length;
  }

  async #notifyOne(observer: Observer, sequence: number, deps: NotifyDeps): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await deps.render(observer, sequence);
    } catch (err) {
      deps.onError(err, observer);
      this.remove(observer);
      return;
    }
    // 'forward' is never rendered for a notification (only for requests to an endpoint that forwards).
    if (outcome.kind !== 'reply') {
      this.remove(observer);
      return;
    }
    // §4.2: a non-2.xx notification ends the observation; it goes out without an Observe option.
    const final = !isSuccessCode(outcome.code);
    const now = Date.now();
    const confirmable =
      final || observer.sinceCon + 1 >= this.#conEvery || now - observer.lastConAt >= DAY_MS;
    const messageId = deps.nextMessageId();
    const bytes = serialize({
      type: confirmable ? MessageType.CON : MessageType.NON,
      code: outcome.code,
      messageId,
      token: observer.token,
      options: outcome.options,
      payload: outcome.payload,
    });
    if (observer.lastMessageId !== undefined) {
      this.#byMessage.delete(`${peerKey(observer.peer)}|${observer.lastMessageId}`);
    }
    observer.lastMessageId = messageId;
    this.#byMessage.set(`${peerKey(observer.peer)}|${messageId}`, observer);
    if (final) this.remove(observer);
    if (!confirmable) {
      observer.sinceCon++;
      deps.send(bytes, observer.peer);
      return;
    }
    observer.sinceCon = 0;
    observer.lastConAt = now;
    if (observer.pendingCon !== undefined) deps.transmitter.cancel(observer.pendingCon, observer.peer);
    observer.pendingCon = messageId;
    const result = await deps.transmitter.send(bytes, messageId, observer.peer);
    if (observer.pendingCon === messageId) observer.pendingCon = undefined;
    // §4.5: a CON notification answered with RST, or never acknowledged, removes the observer.
    if (result.kind === 'reset' || result.kind === 'timeout') this.remove(observer);
  }

  clear(): void {
    this.#byResource.clear();
    this.#byMessage.clear();
    this.#perSource.clear();
    this.#count = 0;
  }
}
