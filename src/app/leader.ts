import type { Logger } from 'pino';
import type { LockProvider } from '../storage/sql/pg-advisory-lock.js';

type Work = () => Promise<void> | void;

export interface Leadership {
  /**
   * Runs `start` on exactly one replica at a time for `name`, and `stop` when this replica loses the lock (its
   * database connection dropped) or shuts down. Replicas that do not hold it retry every `pollMs`, so when the
   * holder dies another takes over within about that time. Resolves once the first attempt is over (and `start`
   * has finished, if this replica won).
   */
  whileLeader(name: string, start: Work, stop: Work): Promise<void>;
  isLeader(name: string): boolean;
  close(): Promise<void>;
}

interface Task {
  name: string;
  start: Work;
  stop: Work;
  held: boolean;
  busy: boolean;
}

/** Leadership over a lock provider: PostgreSQL replicas. */
export function createLeadership(
  locks: LockProvider,
  logger: Logger,
  { pollMs = 1000 }: { pollMs?: number } = {},
): Leadership {
  const tasks = new Map<string, Task>();
  let closed = false;

  async function stopTask(task: Task, why: string): Promise<void> {
    if (!task.held) return;
    task.held = false;
    logger.warn({ task: task.name, why }, 'no longer the leader; stopping');
    try {
      await task.stop();
    } catch (err) {
      logger.error({ err, task: task.name }, 'stopping leader work failed');
    }
  }

  locks.onLost(() => {
    for (const task of tasks.values()) void stopTask(task, 'lock connection lost');
  });

  async function attempt(task: Task): Promise<void> {
    if (task.busy || closed) return;
    task.busy = true;
    try {
      if (task.held) {
        // The lock lives as long as the connection: make sure it still does.
        await locks.check().catch((err: unknown) => stopTask(task, (err as Error).message));
        return;
      }
      if (!(await locks.tryAcquire(task.name))) return;
      if (closed) return void (await locks.release(task.name));
      task.held = true;
      logger.info({ task: task.name }, 'leader: starting singleton work');
      try {
        await task.start();
      } catch (err) {
        logger.error({ err, task: task.name }, 'leader work failed to start; releasing');
        task.held = false;
        await locks.release(task.name).catch(() => undefined);
      }
    } catch (err) {
      logger.warn({ err, task: task.name }, 'leader election: database unreachable; retrying');
    } finally {
      task.busy = false;
    }
  }

  const timer = setInterval(() => {
    for (const task of tasks.values()) void attempt(task);
  }, pollMs);
  timer.unref();

  return {
    whileLeader(name, start, stop) {
      const task: Task = { name, start, stop, held: false, busy: false };
      tasks.set(name, task);
      return attempt(task);
    },
    isLeader: (name) => tasks.get(name)?.held === true,
    async close() {
      closed = true;
      clearInterval(timer);
      // Wait for attempts in flight, then stop what runs here before the lock goes.
      while ([...tasks.values()].some((t) => t.busy)) await new Promise((r) => setTimeout(r, 10));
      for (const task of tasks.values()) {
        if (!task.held) continue;
        task.held = false;
        await Promise.resolve(task.stop()).catch((err: unknown) =>
          logger.error({ err, task: task.name }, 'stopping leader work failed'),
        );
      }
      await locks.close();
    },
  };
}

/**
 * One process on SQLite (or cluster worker slot 1): it is the leader of everything, at once. Other cluster
 * workers pass `leader: false` and run no singleton work.
 */
export function createFixedLeadership(leader: boolean): Leadership {
  const running = new Map<string, Work>();
  return {
    async whileLeader(name, start, stop) {
      if (!leader) return;
      running.set(name, stop);
      try {
        await start();
      } catch (err) {
        running.delete(name);
        throw err;
      }
    },
    isLeader: (name) => running.has(name),
    async close() {
      for (const stop of running.values()) await stop();
      running.clear();
    },
  };
}
