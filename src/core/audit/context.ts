import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuditContext } from './types.js';

/**
 * Who is acting, carried with the request instead of through every service signature: the transport sets it
 * once when it authenticates the caller (`runAs`), and the audit log reads it when an action is recorded. Work
 * the server does on its own (the drop folder, start-up) has no context and is recorded as `system`.
 */
const current = new AsyncLocalStorage<AuditContext>();

export const SYSTEM: AuditContext = { actor: { id: null, name: 'system' }, address: null };

export function runAs<T>(context: AuditContext, work: () => T): T {
  return current.run(context, work);
}

export function auditContext(): AuditContext {
  return current.getStore() ?? SYSTEM;
}
