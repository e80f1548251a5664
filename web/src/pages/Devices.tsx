import { useEffect, useState } from 'preact/hooks';
import { get } from '../api';
import { DataTable, type Column, type Sort } from '../components/DataTable';
import { ErrorMessage } from '../components/Status';
import { formatAgo, formatTime } from '../format';
import { href } from '../router';
import type { Device, Page, Product } from '../types';
import { useAsync } from '../use-async';

const LIMIT = 50;

const time = (iso: string | null) => <span title={formatTime(iso)}>{formatAgo(iso)}</span>;

const COLUMNS: Column<Device>[] = [
  { key: 'id', label: 'Device', sortable: true, render: (d) => <a href={href.device(d.id)}>{d.id}</a> },
  { key: 'product', label: 'Product', sortable: true, render: (d) => d.product ?? '—' },
  { key: 'version', label: 'Version', sortable: true, render: (d) => d.version ?? '—' },
  { key: 'lastSeen', label: 'Last seen', sortable: true, render: (d) => time(d.lastSeen) },
  { key: 'lastUpdate', label: 'Last update', sortable: true, render: (d) => time(d.lastUpdate) },
  { key: 'protocol', label: 'Protocol', render: (d) => d.protocol ?? '—' },
  { key: 'address', label: 'Address', render: (d) => d.address ?? '—' },
];

/** Waits until typing pauses before searching, so each keystroke is not a query. */
function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

export function Devices() {
  const [search, setSearch] = useState('');
  const [product, setProduct] = useState('');
  const [sort, setSort] = useState<Sort>({ key: 'lastSeen', order: 'desc' });
  const query = useDebounced(search.trim(), 250);
  // The offset belongs to one filter and order: a new one starts again from the first page.
  const filter = JSON.stringify([query, product, sort]);
  const [paging, setPaging] = useState({ filter, offset: 0 });
  const offset = paging.filter === filter ? paging.offset : 0;
  const products = useAsync(() => get<{ items: Product[] }>('/products'), []);

  const page = useAsync(() => {
    const params = new URLSearchParams({
      sort: sort.key,
      order: sort.order,
      limit: String(LIMIT),
      offset: String(offset),
    });
    if (query) params.set('search', query);
    if (product) params.set('product', product);
    return get<Page<Device>>(`/devices?${params}`);
  }, [filter, offset]);

  return (
    <>
      <h1>Devices</h1>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search id, MAC or address
          <input type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        </label>
        <label>
          Product
          <select value={product} onChange={(e) => setProduct(e.currentTarget.value)}>
            <option value="">All products</option>
            {products.data?.items.map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
      </form>
      <ErrorMessage error={page.error} />
      <DataTable
        caption="Devices"
        columns={COLUMNS}
        rows={page.data?.items ?? []}
        rowKey={(d) => d.id}
        total={page.data?.total ?? 0}
        offset={offset}
        limit={LIMIT}
        sort={sort}
        loading={page.loading}
        onSort={setSort}
        onPage={(next) => setPaging({ filter, offset: next })}
      />
    </>
  );
}
