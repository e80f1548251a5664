import { useState } from 'preact/hooks';
import { get } from '../api';
import { BarChart, type Bar } from '../components/BarChart';
import { HourlyChart, lastHours } from '../components/HourlyChart';
import { ErrorMessage, Loading, Section } from '../components/Status';
import { formatAgo, formatCount, formatTime, plural } from '../format';
import { href } from '../router';
import type { Device, Page, Release, ReleaseState, Stats } from '../types';
import { useAsync } from '../use-async';

const STALE_KEY = 'updraft.staleDays';
const STATES: ReleaseState[] = ['published', 'draft', 'revoked'];
/** Enough recent releases to count by state and to tell the state of the versions devices run. */
const RECENT = 500;

interface Fleet {
  stats: Stats;
  releases: Release[];
}

async function loadFleet(): Promise<Fleet> {
  const [stats, releases] = await Promise.all([
    get<Stats>('/stats?hours=24'),
    get<{ items: Release[] }>(`/releases?limit=${RECENT}`),
  ]);
  return { stats, releases: releases.items };
}

/** Devices per product and version, each bar coloured by the state of that release (revoked stands out). */
function versionBars({ stats, releases }: Fleet): Bar[] {
  const state = new Map(releases.map((r) => [`${r.product} ${r.version}`, r.state]));
  return stats.byProductVersion.map((g) => {
    const label = `${g.product ?? 'no product'} ${g.version ?? 'unknown version'}`;
    return { label, value: g.count, state: state.get(label) ?? 'unknown' };
  });
}

const stateBars = (releases: Release[]): Bar[] =>
  STATES.map((state) => ({ label: state, value: releases.filter((r) => r.state === state).length, state }));

export function Overview() {
  const fleet = useAsync(loadFleet, []);
  return (
    <>
      <h1>Overview</h1>
      <ErrorMessage error={fleet.error} />
      {fleet.data ? <Charts fleet={fleet.data} /> : fleet.loading && <Loading />}
      <div class="grid">
        <StaleDevices />
        <RecentlyPublished />
      </div>
    </>
  );
}

function Charts({ fleet }: { fleet: Fleet }) {
  return (
    <>
      <p class="summary">
        <strong data-testid="device-total">{plural(fleet.stats.total, 'device')}</strong> ·{' '}
        {plural(fleet.releases.filter((r) => r.state === 'published').length, 'published release')}
      </p>
      <div class="grid">
        <section class="card">
          <BarChart
            id="chart-versions"
            title="Devices per product and version"
            unit="device"
            bars={versionBars(fleet)}
            empty="No device has checked in yet."
          />
        </section>
        <section class="card">
          <HourlyChart
            id="chart-check-ins"
            title="Check-ins over the last 24 hours"
            hours={lastHours(fleet.stats.checkInsPerHour, 24)}
          />
        </section>
        <section class="card">
          <BarChart
            id="chart-releases"
            title="Recent releases by state"
            unit="release"
            bars={stateBars(fleet.releases)}
            empty="No release yet."
          />
        </section>
      </div>
    </>
  );
}

function StaleDevices() {
  const [days, setDays] = useState(() => Number(localStorage.getItem(STALE_KEY)) || 7);
  const stale = useAsync(() => {
    const before = new Date(Date.now() - days * 86_400_000).toISOString();
    return get<Page<Device>>(
      `/devices?seenBefore=${encodeURIComponent(before)}&sort=lastSeen&order=asc&limit=10`,
    );
  }, [days]);

  function change(value: number) {
    if (!Number.isInteger(value) || value < 1) return;
    localStorage.setItem(STALE_KEY, String(value));
    setDays(value);
  }

  return (
    <Section title="Devices not seen lately">
      <label class="inline">
        Not seen for at least{' '}
        <input
          type="number"
          min="1"
          max="365"
          value={days}
          onChange={(event) => change(Number(event.currentTarget.value))}
        />{' '}
        days
      </label>
      <ErrorMessage error={stale.error} />
      {stale.data && (
        <>
          <p data-testid="stale-total">
            {stale.data.total === 0
              ? 'None: every device checked in recently.'
              : `${formatCount(stale.data.total)} devices`}
          </p>
          <ul class="plain">
            {stale.data.items.map((d) => (
              <li key={d.id}>
                <a href={href.device(d.id)}>{d.id}</a> <span class="muted">{d.product ?? ''}</span>{' '}
                <span title={formatTime(d.lastSeen)}>last seen {formatAgo(d.lastSeen)}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </Section>
  );
}

function RecentlyPublished() {
  const recent = useAsync(() => get<{ items: Release[] }>('/releases?limit=8&state=published'), []);
  return (
    <Section title="Recently published">
      <ErrorMessage error={recent.error} />
      {recent.data &&
        (recent.data.items.length === 0 ? (
          <p class="muted">No published release.</p>
        ) : (
          <ul class="plain" data-testid="recently-published">
            {recent.data.items.map((r) => (
              <li key={r.id}>
                <a href={href.release(r.product, r.version)}>
                  {r.product} {r.label ?? r.version}
                </a>{' '}
                <span class="muted" title={formatTime(r.publishedAt)}>
                  {formatAgo(r.publishedAt)}
                </span>
              </li>
            ))}
          </ul>
        ))}
    </Section>
  );
}
