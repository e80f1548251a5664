import { useState } from 'preact/hooks';
import { ApiError, get, request } from '../api';
import { ConfirmButton } from '../components/ConfirmButton';
import { ErrorMessage, Loading, Section } from '../components/Status';
import { formatBytes } from '../format';
import type { NotifyResult, PublishId } from '../types';
import { useAsync } from '../use-async';

/**
 * What the seed RIOT server's page did, on Updraft's seed-compatible endpoints: per publish id its files and
 * versions, remove, and notify devices. `/remove` and `/notify` take form fields, as the seed's did.
 */
async function loadPublishIds(): Promise<PublishId[]> {
  try {
    return (await get<{ items: PublishId[] }>('/publish-ids')).items;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return [];
    throw err;
  }
}

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

export function PublishIds() {
  const ids = useAsync(loadPublishIds, []);
  return (
    <>
      <h1>RIOT publish ids</h1>
      <p class="muted">
        Files published by the RIOT build (<code>make suit/publish</code>), grouped by publish id.
      </p>
      <ErrorMessage error={ids.error} />
      {ids.loading && !ids.data && <Loading />}
      {ids.data?.length === 0 && <p data-testid="no-publish-ids">No RIOT publish ids.</p>}
      {ids.data?.map((p) => (
        <PublishIdCard key={p.publishId} entry={p} onChange={ids.reload} />
      ))}
    </>
  );
}

function PublishIdCard({ entry, onChange }: { entry: PublishId; onChange: () => void }) {
  const [error, setError] = useState<Error>();
  const remove = (fields: Record<string, string>) =>
    request('/remove', form({ publish_id: entry.publishId, ...fields })).then(onChange, setError);

  return (
    <Section title={entry.publishId}>
      <ErrorMessage error={error} />
      <h3>Versions</h3>
      <ul class="plain">
        {entry.versions.map((v) => (
          <li key={v}>
            {v}{' '}
            <ConfirmButton
              label={`Remove ${v}`}
              danger
              title={`Remove version ${v} of ${entry.publishId}?`}
              message="Its files are deleted; devices can no longer fetch them."
              confirmLabel="Remove"
              onConfirm={() => remove({ version: v })}
            />
          </li>
        ))}
      </ul>
      <h3>Files</h3>
      <div class="table-scroll">
        <table>
          <caption class="visually-hidden">Files of {entry.publishId}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Size</th>
              <th scope="col">SHA-256</th>
            </tr>
          </thead>
          <tbody>
            {entry.files.map((f) => (
              <tr key={f.name}>
                <td data-label="Name">{f.name}</td>
                <td data-label="Size">{formatBytes(f.size)}</td>
                <td data-label="SHA-256" class="hash">
                  {f.sha256}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Notify publishId={entry.publishId} />
      <div class="actions">
        <ConfirmButton
          label="Remove publish id"
          danger
          title={`Remove ${entry.publishId}?`}
          message="Every file of this publish id is deleted."
          confirmLabel="Remove"
          onConfirm={() => remove({})}
        />
      </div>
    </Section>
  );
}

function Notify({ publishId }: { publishId: string }) {
  const [urls, setUrls] = useState('');
  const [results, setResults] = useState<NotifyResult[]>();
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    // The seed took one comma-separated field (`[fd00::2],[fd00::3]`); accept lines too.
    const list = urls.split(/[\s,]+/).filter(Boolean);
    setBusy(true);
    setError(undefined);
    setResults(undefined);
    try {
      const answer = await request<{ results: NotifyResult[] } | undefined>(
        '/notify',
        form({ publish_id: publishId, urls: list.join(',') }),
      );
      setResults(answer?.results ?? list.map((device) => ({ device, status: 'ok' })));
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="form" onSubmit={submit}>
      <h3>Notify devices</h3>
      <label>
        <span>
          Device URLs, one per line (for example <code>[fd00::2]</code>)
        </span>
        <textarea rows={3} required value={urls} onInput={(e) => setUrls(e.currentTarget.value)} />
      </label>
      <button type="submit" class="primary" disabled={busy}>
        {busy ? 'Notifying…' : 'Notify'}
      </button>
      <ErrorMessage error={error} />
      {results && (
        <ul class="plain" aria-live="polite" aria-label="Notify results">
          {results.map((r) => (
            <li key={r.device}>
              <code>{r.device}</code> <span class={`badge badge-${r.status}`}>{r.status}</span>
              {r.code && ` ${r.code}`}
              {r.message && <span class="muted"> {r.message}</span>}
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}
