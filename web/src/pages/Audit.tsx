import { useEffect, useState } from 'preact/hooks';
import { get } from '../api';
import { ErrorMessage } from '../components/Status';
import { formatAgo, formatTime } from '../format';
import type { AuditEntry } from '../types';
import { useAsync } from '../use-async';

const LIMIT = 50;

/** Waits until typing pauses, so each keystroke is not a query. */
function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

const FILTERS = [
  { key: 'actor', label: 'Token (name or id)' },
  { key: 'action', label: 'Action (e.g. release, token.create)' },
  { key: 'target', label: 'Target (product, product@version, device)' },
] as const;

/**
 * The audit log (`GET /api/v1/audit`): who did what to which target, when and from where, newest first. The
 * API pages by cursor (`before`), so "Older" keeps the cursors it has passed to come back with "Newer".
 */
export function Audit() {
  const [fields, setFields] = useState({ actor: '', action: '', target: '' });
  const filter = useDebounced(JSON.stringify(fields), 250);
  const [paging, setPaging] = useState<{ filter: string; cursors: number[] }>({ filter, cursors: [] });
  const cursors = paging.filter === filter ? paging.cursors : [];
  const before = cursors[cursors.length - 1];

  const page = useAsync(() => {
    const params = new URLSearchParams({ limit: String(LIMIT) });
    for (const [key, value] of Object.entries(JSON.parse(filter) as Record<string, string>)) {
      if (value.trim()) params.set(key, value.trim());
    }
    if (before !== undefined) params.set('before', String(before));
    return get<{ items: AuditEntry[]; next: number | null }>(`/audit?${params}`);
  }, [filter, before]);

  const items = page.data?.items ?? [];
  const next = page.data?.next ?? null;
  return (
    <>
      <h1>Audit log</h1>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        {FILTERS.map((f) => (
          <label key={f.key}>
            {f.label}
            <input
              type="search"
              name={f.key}
              value={fields[f.key]}
              onInput={(e) => setFields({ ...fields, [f.key]: e.currentTarget.value })}
            />
          </label>
        ))}
      </form>
      <ErrorMessage error={page.error} />
      <div class="data-table" aria-busy={page.loading}>
        <div class="table-scroll">
          <table>
            <caption class="visually-hidden">Audit log</caption>
            <thead>
              <tr>
                {['When', 'Token', 'Address', 'Action', 'Target', 'Detail'].map((label) => (
                  <th key={label} scope="col" class="unsortable">
                    {label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.id}>
                  <td data-label="When">
                    <span title={formatTime(e.at)}>{formatAgo(e.at)}</span>
                  </td>
                  <td data-label="Token" title={e.actor.id ?? undefined}>
                    {e.actor.name}
                  </td>
                  <td data-label="Address">{e.address ?? '—'}</td>
                  <td data-label="Action">
                    <code>{e.action}</code>
                  </td>
                  <td data-label="Target">{e.target}</td>
                  <td data-label="Detail">
                    {e.detail
                      ? Object.entries(e.detail)
                          .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`)
                          .join('; ')
                      : '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {items.length === 0 && !page.loading && <p class="muted">Nothing matches.</p>}
        <nav class="pager" aria-label="Pages">
          <button
            type="button"
            disabled={cursors.length === 0}
            onClick={() => setPaging({ filter, cursors: cursors.slice(0, -1) })}
          >
            Newer
          </button>
          <span aria-live="polite">
            {items.length === 0
              ? 'No entries'
              : `${(cursors.length * LIMIT + 1).toLocaleString()}–${(cursors.length * LIMIT + items.length).toLocaleString()}`}
          </span>
          <button
            type="button"
            disabled={next === null}
            onClick={() => next !== null && setPaging({ filter, cursors: [...cursors, next] })}
          >
            Older
          </button>
        </nav>
      </div>
    </>
  );
}
