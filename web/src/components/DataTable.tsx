import type { ComponentChildren } from 'preact';

export interface Column<T> {
  key: string;
  label: string;
  sortable?: boolean;
  render: (row: T) => ComponentChildren;
}

export interface Sort {
  key: string;
  order: 'asc' | 'desc';
}

interface Props<T> {
  caption: string;
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  total: number;
  offset: number;
  limit: number;
  sort: Sort;
  loading: boolean;
  onSort: (sort: Sort) => void;
  onPage: (offset: number) => void;
}

/**
 * A table whose paging and sorting happen on the server: it shows one page and asks for another. Sort buttons
 * sit in the headers (with `aria-sort`), so both work from the keyboard.
 */
export function DataTable<T>(props: Props<T>) {
  const { columns, rows, sort, total, offset, limit } = props;
  const toggle = (key: string) =>
    props.onSort({ key, order: sort.key === key && sort.order === 'asc' ? 'desc' : 'asc' });
  const last = Math.min(offset + rows.length, total);
  return (
    <div class="data-table" aria-busy={props.loading}>
      <div class="table-scroll">
        <table>
          <caption class="visually-hidden">{props.caption}</caption>
          <thead>
            <tr>
              {columns.map((c) => (
                <th
                  key={c.key}
                  scope="col"
                  class={c.sortable ? undefined : 'unsortable'}
                  aria-sort={
                    sort.key === c.key ? (sort.order === 'asc' ? 'ascending' : 'descending') : undefined
                  }
                >
                  {c.sortable ? (
                    <button type="button" class="sort" onClick={() => toggle(c.key)}>
                      {c.label}
                      <span aria-hidden="true">
                        {sort.key === c.key ? (sort.order === 'asc' ? ' ▲' : ' ▼') : ' ↕'}
                      </span>
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={props.rowKey(row)}>
                {columns.map((c) => (
                  <td key={c.key} data-label={c.label}>
                    {c.render(row)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {rows.length === 0 && !props.loading && <p class="muted">Nothing matches.</p>}
      <nav class="pager" aria-label="Pages">
        <button
          type="button"
          disabled={offset === 0}
          onClick={() => props.onPage(Math.max(0, offset - limit))}
        >
          Previous
        </button>
        <span aria-live="polite">
          {total === 0 ? '0' : `${(offset + 1).toLocaleString()}–${last.toLocaleString()}`} of{' '}
          {total.toLocaleString()}
        </span>
        <button type="button" disabled={offset + limit >= total} onClick={() => props.onPage(offset + limit)}>
          Next
        </button>
      </nav>
    </div>
  );
}
