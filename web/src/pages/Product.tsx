import { get } from '../api';
import { ErrorMessage, Loading, Section, StateBadge } from '../components/Status';
import { formatBytes, formatTime } from '../format';
import { href } from '../router';
import type { Product as ProductInfo, Release } from '../types';
import { useAsync } from '../use-async';
import { ReleaseUpload } from './ReleaseUpload';

/** One product: its releases, newest version first, and the upload form. */
export function Product({ name }: { name: string }) {
  const product = useAsync(() => get<ProductInfo>(`/products/${encodeURIComponent(name)}`), [name]);
  const releases = useAsync(
    () => get<{ items: Release[] }>(`/products/${encodeURIComponent(name)}/releases`),
    [name],
  );
  return (
    <>
      <p class="crumbs">
        <a href={href.products()}>Products</a> /
      </p>
      <h1>{name}</h1>
      <ErrorMessage error={product.error} />
      {product.data && (
        <p class="muted">
          {product.data.deviceFamily}
          {product.data.description && ` · ${product.data.description}`}
        </p>
      )}
      <Section title="Releases">
        <ErrorMessage error={releases.error} />
        {releases.loading && !releases.data && <Loading />}
        {releases.data &&
          (releases.data.items.length === 0 ? (
            <p class="muted">No release yet.</p>
          ) : (
            <div class="table-scroll">
              <table data-testid="releases">
                <caption class="visually-hidden">Releases of {name}</caption>
                <thead>
                  <tr>
                    <th scope="col">Version</th>
                    <th scope="col">State</th>
                    <th scope="col">Artifacts</th>
                    <th scope="col">Created</th>
                    <th scope="col">Published</th>
                  </tr>
                </thead>
                <tbody>
                  {releases.data.items.map((r) => (
                    <tr key={r.id} data-version={r.version} data-state={r.state}>
                      <td data-label="Version">
                        <a href={href.release(name, r.version)}>{r.label ?? r.version}</a>
                      </td>
                      <td data-label="State">
                        <StateBadge state={r.state} />
                      </td>
                      <td data-label="Artifacts">
                        {r.artifacts.length} ({formatBytes(r.artifacts.reduce((sum, a) => sum + a.size, 0))})
                      </td>
                      <td data-label="Created">{formatTime(r.createdAt)}</td>
                      <td data-label="Published">{formatTime(r.publishedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ))}
      </Section>
      <ReleaseUpload product={name} onUploaded={releases.reload} />
    </>
  );
}
