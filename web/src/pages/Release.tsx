import { useState } from 'preact/hooks';
import { ApiError, del, download, get, post } from '../api';
import { ConfirmButton } from '../components/ConfirmButton';
import { ErrorMessage, Loading, Section, StateBadge } from '../components/Status';
import { formatBytes, formatTime } from '../format';
import { href, navigate } from '../router';
import type { Artifact, Release as ReleaseInfo } from '../types';
import { useAsync } from '../use-async';

/** The artifact names a SUIT manifest goes by: `manifest`, `*.suit`, RIOT's `riot.suit.<seq>.bin`. */
const isManifest = (name: string) =>
  name === 'manifest' || name.endsWith('.suit') || name.includes('riot.suit');

export function Release({ product, version }: { product: string; version: string }) {
  const path = `/products/${encodeURIComponent(product)}/releases/${encodeURIComponent(version)}`;
  const release = useAsync(() => get<ReleaseInfo>(path), [path]);
  const [error, setError] = useState<Error>();

  async function act(action: () => Promise<unknown>) {
    setError(undefined);
    try {
      await action();
    } catch (err) {
      setError(err as Error);
    }
  }

  const r = release.data;
  return (
    <>
      <p class="crumbs">
        <a href={href.products()}>Products</a> / <a href={href.product(product)}>{product}</a> /
      </p>
      <h1>
        {product} {r?.label ?? version} {r && <StateBadge state={r.state} />}
      </h1>
      <ErrorMessage error={release.error ?? error} />
      {release.loading && !r && <Loading />}
      {r && (
        <>
          <div class="actions">
            {r.state !== 'published' && (
              <ConfirmButton
                label="Publish"
                title={`Publish ${product} ${r.version}?`}
                message="Devices of this product will be offered this version at their next check-in."
                onConfirm={() => act(() => post(`${path}/publish`).then(release.reload))}
              />
            )}
            {r.state !== 'revoked' && (
              <ConfirmButton
                label="Revoke"
                danger
                title={`Revoke ${product} ${r.version}?`}
                message="Devices will no longer be offered this version. It can be published again later."
                onConfirm={() => act(() => post(`${path}/revoke`).then(release.reload))}
              />
            )}
            <ConfirmButton
              label="Delete"
              danger
              title={`Delete ${product} ${r.version}?`}
              message="The release and its files are removed for good."
              onConfirm={() => act(() => del(path).then(() => navigate(href.product(product))))}
            />
          </div>
          <dl class="facts">
            <dt>Created</dt>
            <dd>{formatTime(r.createdAt)}</dd>
            <dt>Published</dt>
            <dd>{formatTime(r.publishedAt)}</dd>
            <dt>Revoked</dt>
            <dd>{formatTime(r.revokedAt)}</dd>
          </dl>
          <Section title="Notes">
            {r.notes ? <p class="notes">{r.notes}</p> : <p class="muted">No notes.</p>}
          </Section>
          <Artifacts path={path} artifacts={r.artifacts} onError={setError} />
          {r.artifacts.some((a) => isManifest(a.name)) && <Manifest path={path} />}
        </>
      )}
    </>
  );
}

function Artifacts({
  path,
  artifacts,
  onError,
}: {
  path: string;
  artifacts: Artifact[];
  onError: (e: Error) => void;
}) {
  return (
    <Section title="Artifacts">
      <div class="table-scroll">
        <table data-testid="artifacts">
          <caption class="visually-hidden">Artifacts</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Size</th>
              <th scope="col">SHA-256</th>
              <th scope="col">MD5</th>
              <th scope="col">
                <span class="visually-hidden">Download</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {artifacts.map((a) => (
              <tr key={a.name}>
                <td data-label="Name">{a.name}</td>
                <td data-label="Size" title={`${a.size} bytes`}>
                  {formatBytes(a.size)}
                </td>
                <td data-label="SHA-256" class="hash">
                  {a.sha256}
                </td>
                <td data-label="MD5" class="hash">
                  {a.md5}
                </td>
                <td>
                  <button
                    type="button"
                    class="link"
                    aria-label={`Download ${a.name}`}
                    onClick={() =>
                      download(`${path}/artifacts/${encodeURIComponent(a.name)}`, a.name).catch(onError)
                    }
                  >
                    Download
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
}

/** The decoded SUIT manifest, as the server reports it. */
function Manifest({ path }: { path: string }) {
  const manifest = useAsync(
    () =>
      get<unknown>(`${path}/manifest`).catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 404) return undefined;
        throw err;
      }),
    [path],
  );
  return (
    <Section title="SUIT manifest">
      <ErrorMessage error={manifest.error} />
      {manifest.loading && <Loading />}
      {!manifest.loading &&
        !manifest.error &&
        (manifest.data === undefined ? (
          <p class="muted">The server has no decoded view of this manifest.</p>
        ) : (
          <pre class="manifest" tabIndex={0} aria-label="Decoded manifest">
            {JSON.stringify(manifest.data, null, 2)}
          </pre>
        ))}
    </Section>
  );
}
