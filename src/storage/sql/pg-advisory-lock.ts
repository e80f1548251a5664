import pg from 'pg';

/** Named exclusive locks across replicas (here: `pg_advisory_lock` on a dedicated connection). */
export interface LockProvider {
  tryAcquire(name: string): Promise<boolean>;
  release(name: string): Promise<void>;
  /** Throws when the connection holding the locks is gone (they are gone with it). */
  check(): Promise<void>;
  /** Called when the connection holding the locks drops: every lock is lost at that moment. */
  onLost(listener: () => void): void;
  close(): Promise<void>;
}

/**
 * Session-level `pg_advisory_lock`s on one dedicated connection: a lock is held exactly as long as that connection
 * lives, so when the holder's process dies (kill -9, power loss) PostgreSQL frees it as soon as the socket
 * closes, and another replica's next `pg_try_advisory_lock` wins. Keys are `hashtextextended(<schema>:<name>)`,
 * so instances on different schemas of one database never contend.
 */
export function createPgLockProvider(url: string, applicationName = 'updraft-leader'): LockProvider {
  let client: pg.Client | undefined;
  let connecting: Promise<pg.Client> | undefined;
  let lostListener: (() => void) | undefined;

  function connection(): Promise<pg.Client> {
    if (client) return Promise.resolve(client);
    connecting ??= (async () => {
      const next = new pg.Client({ connectionString: url, application_name: applicationName });
      const lost = () => {
        if (client !== next) return;
        client = undefined;
        void next.end().catch(() => undefined);
        lostListener?.();
      };
      next.on('error', lost);
      next.on('end', lost);
      try {
        await next.connect();
      } catch (err) {
        next.removeAllListeners();
        throw err;
      }
      client = next;
      return next;
    })().finally(() => (connecting = undefined));
    return connecting;
  }

  const key = (name: string) => `updraft:${name}`;
  return {
    async tryAcquire(name) {
      const c = await connection();
      const { rows } = await c.query<{ ok: boolean }>(
        `select pg_try_advisory_lock(hashtextextended(current_schema() || ':' || $1, 0)) as ok`,
        [key(name)],
      );
      return rows[0]?.ok === true;
    },
    async release(name) {
      if (!client) return;
      await client.query(`select pg_advisory_unlock(hashtextextended(current_schema() || ':' || $1, 0))`, [
        key(name),
      ]);
    },
    async check() {
      const c = await connection();
      await c.query('select 1');
    },
    onLost(listener) {
      lostListener = listener;
    },
    async close() {
      const current = client;
      client = undefined;
      await current?.end().catch(() => undefined);
    },
  };
}
