import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { createListeners, type BusMessage, type EventBus } from '../../core/events/event-bus.js';
import type { Database } from './schema.js';

/** PostgreSQL limits a NOTIFY payload to 8000 bytes; stay below with the envelope. */
const MAX_PAYLOAD = 7900;

export interface PgEventBusOptions {
  /** The same URL as the pool (its `search_path` option decides the schema, and so the channel). */
  url: string;
  /** The pool, for NOTIFY: a publish must not wait for the listening connection to come back. */
  db: Kysely<Database>;
  onError?: (err: unknown, what: string) => void;
  /** Delay before reconnecting the listening connection, ms (doubles up to 5 s). */
  reconnectMs?: number;
  /** Shown in `pg_stat_activity`. */
  applicationName?: string;
}

export const channelOf = (schema: string): string =>
  `updraft_events_${schema.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`.slice(0, 63);

/**
 * The events bus over PostgreSQL LISTEN/NOTIFY: every replica on the same database (and schema) hears every
 * other's messages within milliseconds. One dedicated client listens and reconnects with back-off when the
 * connection drops; after a reconnect it delivers `invalidate *` here, since messages sent meanwhile were lost.
 * NOTIFYs go through the pool one after another, so they arrive in the order they were published (an
 * invalidation before the release event that follows it). Our own messages come back to us and are skipped by
 * origin.
 */
export async function createPgEventBus(options: PgEventBusOptions): Promise<EventBus> {
  const origin = randomUUID();
  const listeners = createListeners();
  const onError = options.onError ?? (() => undefined);
  const schema = (await sql<{ s: string }>`select current_schema() as s`.execute(options.db)).rows[0]?.s;
  const channel = channelOf(schema ?? 'public');
  let client: pg.Client | undefined;
  let closed = false;
  let delay = options.reconnectMs ?? 250;
  let timer: NodeJS.Timeout | undefined;

  function onNotification(n: pg.Notification): void {
    if (n.channel !== channel || !n.payload) return;
    try {
      const envelope = JSON.parse(n.payload) as { o: string; m: BusMessage };
      if (envelope.o !== origin) listeners.deliver(envelope.m);
    } catch (err) {
      onError(err, 'a bus message could not be read');
    }
  }

  async function connect(): Promise<void> {
    const next = new pg.Client({
      connectionString: options.url,
      application_name: options.applicationName ?? 'updraft-events',
    });
    next.on('notification', onNotification);
    const lost = (err?: unknown) => {
      if (client !== next) return;
      client = undefined;
      next.removeAllListeners('notification');
      void next.end().catch(() => undefined);
      if (closed) return;
      onError(err ?? new Error('connection ended'), 'events bus connection lost; reconnecting');
      scheduleReconnect();
    };
    next.on('error', lost);
    next.on('end', () => lost());
    await next.connect();
    await next.query(`LISTEN "${channel}"`);
    client = next;
  }

  function scheduleReconnect(): void {
    timer = setTimeout(() => {
      connect().then(
        () => {
          delay = options.reconnectMs ?? 250;
          // Whatever was published while we were away is unknown: drop every cache here.
          listeners.deliver({ kind: 'invalidate', cache: '*' });
        },
        (err: unknown) => {
          onError(err, 'events bus reconnect failed');
          delay = Math.min(delay * 2, 5000);
          if (!closed) scheduleReconnect();
        },
      );
    }, delay);
    timer.unref();
  }

  await connect();

  let queue: Promise<void> = Promise.resolve();
  /** The payload of a message, within NOTIFY's limit: a release's notes (up to 10,000 characters) are not needed by any listener. */
  function payloadOf(message: BusMessage): string {
    const full = JSON.stringify({ o: origin, m: message });
    if (Buffer.byteLength(full) <= MAX_PAYLOAD) return full;
    if (message.kind === 'release') {
      const slim = {
        ...message,
        event: { ...message.event, release: { ...message.event.release, notes: '' } },
      };
      const text = JSON.stringify({ o: origin, m: slim });
      if (Buffer.byteLength(text) <= MAX_PAYLOAD) return text;
    }
    // A release with hundreds of artifacts: the other replicas still drop their caches, but cannot notify their
    // Observe clients of this one event (docs/deployment.md).
    onError(new Error(`bus message of ${full.length} bytes`), 'bus message too large; sent as invalidate *');
    return JSON.stringify({ o: origin, m: { kind: 'invalidate', cache: '*' } });
  }

  function notify(message: BusMessage): void {
    const payload = payloadOf(message);
    queue = queue
      .then(() => sql`select pg_notify(${channel}, ${payload})`.execute(options.db))
      .then(
        () => undefined,
        (err: unknown) => onError(err, 'a bus message could not be sent'),
      );
  }

  return {
    publish(message) {
      listeners.deliver(message);
      if (!closed) notify(message);
    },
    subscribe: listeners.add,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await queue;
      const current = client;
      client = undefined;
      await current?.end().catch(() => undefined);
    },
  };
}
