import { isoNow, systemClock, type Clock } from '../clock.js';
import type {
  AuditContext,
  AuditEntry,
  AuditQuery,
  AuditRepository,
  TransactionStores,
  UnitOfWork,
} from './types.js';

export interface AuditLogDeps {
  unitOfWork: UnitOfWork;
  /** For reading outside any transaction. */
  entries: Pick<AuditRepository, 'list'>;
  clock?: Clock;
}

/**
 * Runs a management action and writes its audit record in the same transaction (docs/adr/0004-audit.md): a
 * crash, or a failing insert, never leaves an action without its record or a record without its action.
 */
export function createAuditLog({ unitOfWork, entries, clock = systemClock }: AuditLogDeps) {
  return {
    /**
     * `work` changes what it needs through `tx` only (the repositories bound to the transaction: on SQLite the
     * one connection is held until commit, so a query through any other repository would wait forever).
     * `detail` may add facts known only after the change (e.g. the id a token got). `by` is who acted: the
     * caller passes it, since an ambient store (AsyncLocalStorage) would cost every later request on Node 20.
     */
    withAudit<T>(
      by: AuditContext,
      action: string,
      target: string,
      work: (tx: TransactionStores) => Promise<T>,
      detail?: (result: T) => Record<string, unknown> | null,
    ): Promise<T> {
      const { actor, address } = by;
      return unitOfWork.run(async (tx) => {
        const result = await work(tx);
        await tx.audit.record({
          at: isoNow(clock),
          actor,
          address,
          action,
          target,
          detail: detail?.(result) ?? null,
        });
        return result;
      });
    },

    async list(query: AuditQuery): Promise<{ items: AuditEntry[]; next: number | null }> {
      const items = await entries.list(query);
      const last = items[items.length - 1];
      return { items, next: items.length === query.limit && last ? last.id : null };
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;

/**
 * For code run without a database transaction manager (unit tests of one service): the work runs on the
 * given stores and nothing is recorded.
 */
export function unauditedLog(stores: {
  [K in keyof TransactionStores]?: Partial<TransactionStores[K]>;
}): Pick<AuditLog, 'withAudit'> {
  return {
    withAudit: (_by, _action, _target, work) => work(stores as TransactionStores),
  };
}
