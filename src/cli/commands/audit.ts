import type { Command } from 'commander';
import { clientFor, withServer } from '../remote.js';
import { printJson, printTable } from '../output.js';
import type { AuditEntry } from '../../core/audit/types.js';

/** `updraft audit`: the management actions, newest first, with the API's filters; `--all` follows the pages. */
export function registerAudit(program: Command): void {
  withServer(
    program
      .command('audit')
      .description('who did what, to which target, when and from where (newest first)')
      .option('--actor <name>', 'token name or id')
      .option('--action <action>', 'an action or its prefix: release, release.publish, token...')
      .option('--target <target>', 'a target; a product also finds its releases')
      .option('--since <time>', 'ISO-8601: at or after')
      .option('--until <time>', 'ISO-8601: before')
      .option('--limit <n>', 'entries per page', '50')
      .option('--before <id>', 'entries older than this id (the next page)')
      .option('--all', 'every page, not only the first'),
  ).action(async (_o, command: Command) => {
    const o = command.opts<Record<string, string | boolean | undefined>>();
    const query = new URLSearchParams();
    for (const key of ['actor', 'action', 'target', 'since', 'until', 'limit', 'before']) {
      const value = o[key];
      if (typeof value === 'string' && value) query.set(key, value);
    }
    const client = clientFor(command);
    const items: AuditEntry[] = [];
    let next: number | null = null;
    do {
      if (next !== null) query.set('before', String(next));
      const page: { items: AuditEntry[]; next: number | null } = await client.call(
        'GET',
        `/api/v1/audit?${query}`,
      );
      items.push(...page.items);
      next = page.next;
    } while (o.all && next !== null);
    if (o.json) return printJson({ items, next });
    printTable(
      items.map((e) => ({
        id: e.id,
        at: e.at,
        actor: e.actor.name,
        address: e.address,
        action: e.action,
        target: e.target,
        detail: e.detail ? JSON.stringify(e.detail) : null,
      })),
      ['id', 'at', 'actor', 'address', 'action', 'target', 'detail'],
    );
    if (next !== null) process.stderr.write(`more: --before ${next}\n`);
  });
}
