import { useState } from 'preact/hooks';
import { get, post } from '../api';
import { ConfirmButton } from '../components/ConfirmButton';
import { ErrorMessage, Loading, Section, StateBadge } from '../components/Status';
import { StateLegend, WaveBar } from '../components/WaveBar';
import { formatTime } from '../format';
import { href } from '../router';
import type { Deployment as DeploymentInfo, DeploymentEvent } from '../types';
import { useAsync } from '../use-async';
import { useInterval } from '../use-interval';

/** Actions an operator may take, by deployment state (the server refuses the rest with 409 anyway). */
const ACTIONS: Record<string, ('pause' | 'resume' | 'cancel' | 'rollback')[]> = {
  scheduled: ['pause', 'cancel'],
  running: ['pause', 'cancel', 'rollback'],
  soaking: ['pause', 'cancel', 'rollback'],
  paused: ['resume', 'cancel', 'rollback'],
  completed: ['rollback'],
  cancelled: [],
  'rolled-back': [],
};

const CONFIRM = {
  pause: 'No device is offered the release until you resume. Devices already downloading finish.',
  resume: 'The deployment goes on from the wave it was in.',
  cancel: 'No device is offered the release any more. This cannot be undone.',
  rollback:
    'Every device that installed this release is offered the release it ran before. This cannot be undone.',
};

/**
 * One deployment: each wave as a stacked bar of its devices' states, refreshed every two seconds (the counts
 * come from the server's maintained counters, so this costs the same for ten devices as for a million).
 */
export function Deployment({ id }: { id: string }) {
  const deployment = useAsync(() => get<DeploymentInfo>(`/deployments/${encodeURIComponent(id)}`), [id]);
  const events = useAsync(
    () => get<{ items: DeploymentEvent[] }>(`/deployments/${encodeURIComponent(id)}/events?limit=50`),
    [id],
  );
  useInterval(deployment.reload, 2000);
  useInterval(events.reload, 5000);
  const [error, setError] = useState<Error>();
  const d = deployment.data;

  async function act(action: keyof typeof CONFIRM) {
    setError(undefined);
    try {
      await post(`/deployments/${encodeURIComponent(id)}/${action}`);
      deployment.reload();
      events.reload();
    } catch (err) {
      setError(err as Error);
    }
  }

  return (
    <>
      <p class="crumbs">
        <a href={href.deployments()}>Deployments</a> /
      </p>
      <h1 class="break">
        {d ? `${d.product} ${d.version}` : 'Deployment'} <span class="muted">{id}</span>
      </h1>
      <ErrorMessage error={deployment.error} />
      {deployment.loading && !d && <Loading />}
      {d && (
        <>
          <p class="summary">
            <StateBadge state={d.state} /> wave {d.currentWave + 1} of {d.waves.length} ·{' '}
            <span data-testid="succeeded">{d.counts.succeeded}</span> of {d.total} succeeded
          </p>
          {d.haltReason && (
            <p class="halt" role="status" data-testid="halt-reason">
              Halted: {d.haltReason}
            </p>
          )}
          <ErrorMessage error={error} />
          <div class="actions">
            {(ACTIONS[d.state] ?? []).map((action) => (
              <ConfirmButton
                key={action}
                label={action[0]!.toUpperCase() + action.slice(1)}
                title={`${action[0]!.toUpperCase() + action.slice(1)} this deployment?`}
                message={CONFIRM[action]}
                danger={action === 'cancel' || action === 'rollback'}
                onConfirm={() => act(action)}
              />
            ))}
          </div>
          <Section title="Waves">
            <StateLegend />
            <div class="waves" data-testid="waves">
              {d.waves.map((w, i) => (
                <WaveRow key={i} index={i} wave={w} open={i <= d.currentWave} />
              ))}
            </div>
          </Section>
          <Section title="Settings">
            <dl class="facts">
              <dt>Target</dt>
              <dd>
                {[
                  d.target.groups.length ? `groups ${d.target.groups.join(', ')}` : '',
                  d.target.devices.length ? `${d.target.devices.length} devices` : '',
                  d.target.filter ? `filter ${d.target.filter}` : '',
                ]
                  .filter(Boolean)
                  .join('; ') || `every device of ${d.product}`}
              </dd>
              <dt>Soak</dt>
              <dd>{d.soakSeconds} s</dd>
              <dt>Success needed</dt>
              <dd>{d.successPercent} %</dd>
              <dt>Halts after</dt>
              <dd>
                {d.maxFailures} failures (judged from {d.minFinal} final devices)
              </dd>
              <dt>Timeout</dt>
              <dd>{d.timeoutSeconds} s</dd>
              <dt>Pace</dt>
              <dd>
                {d.ratePerMinute ? `${d.ratePerMinute} new devices/min` : 'no rate limit'},{' '}
                {d.maxDownloads ? `${d.maxDownloads} downloads at once` : 'no download cap'}
              </dd>
              <dt>Window</dt>
              <dd>{d.window ? `${d.window.start}–${d.window.end} ${d.window.timeZone}` : 'any time'}</dd>
              <dt>Rollback</dt>
              <dd>{d.rollback ? 'on halt' : 'off'}</dd>
              <dt>Created</dt>
              <dd>{formatTime(d.createdAt)}</dd>
            </dl>
          </Section>
          <Section title="Events">
            {events.data?.items.length ? (
              <ul class="plain" data-testid="events">
                {events.data.items.map((e) => (
                  <li key={e.id}>
                    {formatTime(e.at)} · {e.kind}
                    {e.deviceId ? ` · ${e.deviceId}` : ''}
                    {e.detail ? ` · ${e.detail}` : ''}
                  </li>
                ))}
              </ul>
            ) : (
              <p class="muted">No event yet.</p>
            )}
          </Section>
        </>
      )}
    </>
  );
}

function WaveRow({
  index,
  wave,
  open,
}: {
  index: number;
  wave: DeploymentInfo['waves'][number];
  open: boolean;
}) {
  const label = `Wave ${index + 1} (${wave.spec})`;
  return (
    <>
      <span>
        {label}
        {open ? '' : ' · not open'}
      </span>
      <div data-testid={`wave-${index + 1}`}>
        <WaveBar counts={wave.counts} total={wave.total} label={label} />
      </div>
      <span class="muted">
        {wave.counts.succeeded}/{wave.total}
      </span>
    </>
  );
}
