import type { AuditContext } from './types.js';

/**
 * The context of work the server does on its own (the drop folder, the bootstrap token, `updraft import`). Every
 * audited service method takes its caller's context as its first parameter: a transport passes the request's
 * (docs/adr/0004-audit.md), the server passes this one.
 */
export const SYSTEM: AuditContext = { actor: { id: null, name: 'system' }, address: null };
