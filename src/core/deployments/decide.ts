import type { Release } from '../catalog/types.js';
import type { DeviceFacts } from '../groups/filter.js';
import { NO_TAGS } from '../groups/group-service.js';
import { decideUpdate, type DeviceReport, type UpdateDecision } from '../updates/decide-update.js';
import { compareVersions } from '../versions/compare.js';
import type { DeploymentInternals, Live } from './deployment-service.js';
import { positionOf, waveOf } from './waves.js';
import { inWindow, secondsUntilWindow } from './window.js';

export interface DeploymentQuery {
  product: string;
  deviceId: string;
  protocol: string;
  report: DeviceReport;
  attributes?: Record<string, string>;
  artifactNames: readonly string[];
  /** Published releases of the product, newest first (from the catalog's cache). */
  published: Release[];
}

const notNow = (retryAfterSeconds?: number): UpdateDecision => ({
  kind: 'none',
  reason: 'not-now',
  ...(retryAfterSeconds !== undefined
    ? { retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)) }
    : {}),
});

const same = (a: string | undefined | null, b: string) =>
  a !== undefined && a !== null && a !== '' && compareVersions(a, b) === 0;

/**
 * What the deployments say to one check-in, from memory: undefined when none has anything to say (the
 * product's rollout mode decides then). Writes happen only when the device's state changes (offered,
 * succeeded, failed, skipped), once per state; a check-in that changes nothing costs no query.
 */
export async function decideForDeployments(
  internals: DeploymentInternals,
  q: DeploymentQuery,
): Promise<UpdateDecision | undefined> {
  const cache = internals.loaded() ?? (await internals.load());
  const slot = cache.byProduct.get(q.product);
  if (!slot) return undefined;
  const version = q.report.version;

  // A rollback first: a device running a rolled-back release is offered the one it ran before.
  for (const live of slot.rolledBack) {
    const m = live.members.get(q.deviceId);
    if (!m?.previousVersion) continue;
    const installed = version ? same(version, live.row.version) : m.state === 'succeeded';
    if (!installed) {
      if (same(version, m.previousVersion) && m.rollbackOffered) {
        m.rollbackOffered = false;
        internals.deps.history.record(
          q.deviceId,
          'deployment',
          m.previousVersion,
          `${live.row.id}: rolled back`,
        );
      }
      continue;
    }
    const previous = await internals.deps.releases.find(q.product, m.previousVersion);
    if (!previous || previous.state === 'revoked') continue;
    // `pinned` is the decision's one way to allow a lower version: for exactly this device, exactly this release.
    const d = decideUpdate({
      published: [],
      artifactNames: q.artifactNames,
      report: q.report,
      pinned: previous,
    });
    if (d.kind !== 'update') return d;
    if (!m.rollbackOffered) {
      m.rollbackOffered = true;
      internals.deps.history.record(
        q.deviceId,
        'deployment',
        previous.version,
        `${live.row.id}: rollback to ${previous.version} offered`,
      );
    }
    return { ...d, offer: { deploymentId: live.row.id, rollback: true } };
  }

  const live = slot.active;
  if (!live) return undefined;
  return decideActive(internals, live, q);
}

async function decideActive(
  internals: DeploymentInternals,
  live: Live,
  q: DeploymentQuery,
): Promise<UpdateDecision | undefined> {
  const { row } = live;
  const now = internals.clock();
  const version = q.report.version;
  const member = live.members.get(q.deviceId);
  const releaseOf = () => q.published.find((r) => r.version === row.version);

  if (!member || member.state === 'pending') {
    const wave = waveOf(row.spec.waves, positionOf(row.id, q.deviceId));
    if (wave === undefined) return undefined;
    // A target of the whole product needs no facts; otherwise tags and groups come from memory without an await
    // once loaded: this is every pending device's check-in.
    if (!live.matches.everyone) {
      const known = internals.groups.loaded();
      const facts: DeviceFacts = {
        id: q.deviceId,
        product: q.product,
        version: version ?? null,
        tags: known ? (known.tags.get(q.deviceId) ?? NO_TAGS) : await internals.groups.tagsOf(q.deviceId),
        attributes: q.attributes ?? {},
        lastSeen: now.toISOString(),
      };
      const groupViews = known?.groups ?? (await internals.groups.groupMap());
      if (!live.matches(facts, groupViews, now)) return undefined;
    }
    if (row.state !== 'running' && row.state !== 'soaking') return notNow();
    if (wave > row.currentWave) return notNow(row.spec.soakSeconds || undefined);
    const release = releaseOf();
    if (!release) return notNow();
    if (!inWindow(row.spec, now)) return notNow(secondsUntilWindow(row.spec, now));
    const d = decideUpdate({ published: [release], artifactNames: q.artifactNames, report: q.report });
    if (d.kind === 'none') {
      // Already on the release (updated some other way): nothing to do in this deployment.
      const reason =
        d.reason === 'up-to-date' || d.reason === 'same-image'
          ? `already runs ${row.version}`
          : d.reason === 'insufficient-space'
            ? `does not fit: ${d.artifact?.size ?? '?'} bytes, ${q.report.freeSpace ?? '?'} free`
            : `incompatible: no artifact named ${q.artifactNames.join(' or ')}`;
      await internals.move(live, q.deviceId, 'skipped', { wave, protocol: q.protocol, reason }, reason);
      return d.reason === 'up-to-date' || d.reason === 'same-image' ? d : notNow();
    }
    const wait = paceWait(live, now.getTime());
    if (wait !== undefined) return notNow(wait);
    // The slot is taken before the write, so concurrent check-ins cannot overshoot the caps.
    live.reserved += 1;
    const offeredAt = now.getTime();
    live.offers.add(offeredAt);
    const moved = await internals
      .move(
        live,
        q.deviceId,
        'offered',
        { wave, protocol: q.protocol, previousVersion: version ?? null },
        `wave ${wave + 1}${version ? `, was ${version}` : ''}`,
      )
      .finally(() => (live.reserved -= 1));
    if (!moved) {
      live.offers.remove(offeredAt);
      // Another process or request moved it first: answer from what it did.
      const now2 = live.members.get(q.deviceId);
      return now2 && (now2.state === 'offered' || now2.state === 'downloading')
        ? { ...d, offer: { deploymentId: row.id, rollback: false } }
        : notNow(5);
    }
    return { ...d, offer: { deploymentId: row.id, rollback: false } };
  }

  const release = releaseOf();
  switch (member.state) {
    case 'offered':
    case 'downloading':
    case 'downloaded': {
      // Success: the new version, or the new image's digest, reported after the offer.
      const d = release
        ? decideUpdate({ published: [release], artifactNames: q.artifactNames, report: q.report })
        : undefined;
      if (same(version, row.version) || (d?.kind === 'none' && d.reason === 'same-image')) {
        await internals.move(
          live,
          q.deviceId,
          'succeeded',
          {},
          version ? `reports ${version}` : 'reports the new image',
        );
        return release
          ? { kind: 'none', reason: 'up-to-date', release, artifact: undefined }
          : { kind: 'none', reason: 'up-to-date' };
      }
      if (member.state === 'downloaded' && version) {
        // Downloaded, then back on another version: a fallback or a failed boot.
        const reason = `fell back: reports ${version} after downloading ${row.version}`;
        await internals.move(live, q.deviceId, 'failed', { reason }, reason);
        return notNow();
      }
      if (!d) return notNow();
      return d.kind === 'update' ? { ...d, offer: { deploymentId: row.id, rollback: false } } : d;
    }
    case 'succeeded':
      return release
        ? { kind: 'none', reason: 'up-to-date', release }
        : { kind: 'none', reason: 'up-to-date' };
    default:
      // failed, timed out, skipped: this deployment offers the device nothing more.
      return notNow();
  }
}

/** Seconds until the pace allows another offer, or undefined when it allows one now. */
function paceWait(live: Live, nowMs: number): number | undefined {
  const { ratePerMinute, maxDownloads } = live.row.spec;
  if (maxDownloads !== undefined) {
    let inFlight = live.reserved;
    for (const c of live.counts) inFlight += c.offered + c.downloading;
    if (inFlight >= maxDownloads) return 10;
  }
  if (ratePerMinute !== undefined) {
    live.offers.forgetUpTo(nowMs - 60_000);
    const oldest = live.offers.oldest();
    if (oldest !== undefined && live.offers.count >= ratePerMinute) return (oldest + 60_000 - nowMs) / 1000;
  }
  return undefined;
}
