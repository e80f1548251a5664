import { useState } from 'preact/hooks';
import { get, post } from '../api';
import { ErrorMessage, Loading, Section, StateBadge } from '../components/Status';
import { WaveBar } from '../components/WaveBar';
import { formatTime } from '../format';
import { href, navigate } from '../router';
import type { Deployment, DeploymentSpec, DryRun } from '../types';
import { useAsync } from '../use-async';
import { useInterval } from '../use-interval';

/** The deployments list (state and progress, refreshed every few seconds) and the form that starts one. */
export function Deployments() {
  const list = useAsync(() => get<{ items: Deployment[] }>('/deployments'), []);
  useInterval(list.reload, 3000);
  const items = list.data?.items ?? [];
  return (
    <>
      <h1>Deployments</h1>
      <ErrorMessage error={list.error} />
      {list.loading && !list.data && <Loading />}
      {list.data && items.length === 0 && <p data-testid="no-deployments">No deployment yet.</p>}
      {items.length > 0 && (
        <div class="table-scroll">
          <table data-testid="deployments">
            <caption class="visually-hidden">Deployments, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Deployment</th>
                <th scope="col">Release</th>
                <th scope="col">State</th>
                <th scope="col">Wave</th>
                <th scope="col">Progress</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.id}>
                  <td data-label="Deployment">
                    <a href={href.deployment(d.id)}>{d.id}</a>
                  </td>
                  <td data-label="Release">
                    {d.product} {d.version}
                  </td>
                  <td data-label="State">
                    <StateBadge state={d.state} />
                  </td>
                  <td data-label="Wave">
                    {d.currentWave + 1} of {d.waves.length}
                  </td>
                  <td data-label="Progress">
                    <WaveBar counts={d.counts} total={d.total} label={`${d.id} progress`} />
                    <span class="muted">
                      {d.counts.succeeded} of {d.total} succeeded
                    </span>
                  </td>
                  <td data-label="Created">{formatTime(d.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <NewDeployment />
    </>
  );
}

const list = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Seconds from `30m`, `2h`, `45s` or a plain number of seconds. */
function seconds(text: string): number | undefined {
  const m = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/**
 * Creating a deployment is two steps, as the CLI's `--dry-run` is: "Preview" asks the server how many devices
 * the target matches and how large each wave is, and only "Start deployment" writes anything.
 */
function NewDeployment() {
  const [fields, setFields] = useState({
    product: '',
    version: '',
    groups: '',
    filter: '',
    waves: '1%,10%,100%',
    soak: '30m',
    success: '95',
    maxFailures: '5%',
    timeout: '2h',
    rate: '',
    maxDownloads: '',
    rollback: false,
  });
  const [preview, setPreview] = useState<DryRun>();
  const [error, setError] = useState<Error>();
  const set = (name: keyof typeof fields) => (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    setFields({ ...fields, [name]: input.type === 'checkbox' ? input.checked : input.value });
    setPreview(undefined);
  };

  function spec(): DeploymentSpec {
    const s: DeploymentSpec = {
      product: fields.product.trim(),
      version: fields.version.trim(),
      waves: list(fields.waves),
      successPercent: Number(fields.success),
      maxFailures: fields.maxFailures.trim(),
      rollback: fields.rollback,
    };
    if (list(fields.groups).length) s.groups = list(fields.groups);
    if (fields.filter.trim()) s.filter = fields.filter.trim();
    const soak = seconds(fields.soak);
    if (soak !== undefined) s.soakSeconds = soak;
    const timeout = seconds(fields.timeout);
    if (timeout !== undefined) s.timeoutSeconds = timeout;
    if (fields.rate.trim()) s.ratePerMinute = Number(fields.rate);
    if (fields.maxDownloads.trim()) s.maxDownloads = Number(fields.maxDownloads);
    return s;
  }

  async function dryRun(e: Event) {
    e.preventDefault();
    setError(undefined);
    try {
      setPreview(await post<DryRun>('/deployments', { ...spec(), dryRun: true }));
    } catch (err) {
      setError(err as Error);
    }
  }

  async function start() {
    setError(undefined);
    try {
      const created = await post<Deployment>('/deployments', spec());
      navigate(href.deployment(created.id));
    } catch (err) {
      setError(err as Error);
    }
  }

  return (
    <Section title="New deployment">
      <form class="form" onSubmit={dryRun}>
        <label>
          Product
          <input required value={fields.product} onInput={set('product')} />
        </label>
        <label>
          Version
          <input required value={fields.version} onInput={set('version')} />
        </label>
        <label>
          Groups (comma-separated; empty = every device of the product)
          <input value={fields.groups} onInput={set('groups')} />
        </label>
        <label>
          Filter
          <input value={fields.filter} onInput={set('filter')} placeholder="version<2.0.0 tag=beta" />
        </label>
        <label>
          Waves
          <input value={fields.waves} onInput={set('waves')} />
        </label>
        <label>
          Soak time per wave
          <input value={fields.soak} onInput={set('soak')} />
        </label>
        <label>
          Success needed (%)
          <input value={fields.success} onInput={set('success')} inputMode="decimal" />
        </label>
        <label>
          Halt after failures (% or count)
          <input value={fields.maxFailures} onInput={set('maxFailures')} />
        </label>
        <label>
          Timeout per device
          <input value={fields.timeout} onInput={set('timeout')} />
        </label>
        <label>
          New devices per minute (empty = no limit)
          <input value={fields.rate} onInput={set('rate')} inputMode="numeric" />
        </label>
        <label>
          Downloads at once (empty = no limit)
          <input value={fields.maxDownloads} onInput={set('maxDownloads')} inputMode="numeric" />
        </label>
        <label class="check">
          <input type="checkbox" checked={fields.rollback} onChange={set('rollback')} /> Roll back the devices
          that installed it when the deployment halts
        </label>
        <ErrorMessage error={error} />
        <button type="submit">Preview</button>
      </form>
      {preview && (
        <div data-testid="dry-run">
          <p class="summary">
            The target matches <strong>{preview.matched}</strong> device{preview.matched === 1 ? '' : 's'}.
          </p>
          <ul class="plain">
            {preview.waves.map((w, i) => (
              <li key={i}>
                Wave {i + 1} ({w.spec}): {w.size} device{w.size === 1 ? '' : 's'}
              </li>
            ))}
          </ul>
          <button type="button" class="primary" onClick={start}>
            Start deployment
          </button>
        </div>
      )}
    </Section>
  );
}
