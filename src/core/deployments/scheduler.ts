import type { DeploymentInternals, Live } from './deployment-service.js';
import type { DeploymentRow } from './ports.js';
import { inWindow } from './window.js';
import { DEVICE_STATES, emptyCounts, type Counts, type DeploymentState } from './types.js';

export interface Scheduler {
  /** One pass over the active deployments at `now`; passes never overlap within a process. */
  tick(now: Date): Promise<void>;
}

const VISIBLE: DeploymentState[] = ['scheduled', 'running', 'soaking', 'paused', 'rolled-back'];
const BATCH = 500;

const total = (c: Counts) => DEVICE_STATES.reduce((n, s) => n + c[s], 0);
function sum(perWave: Counts[], upTo = perWave.length - 1): Counts {
  const out = emptyCounts();
  perWave.slice(0, upTo + 1).forEach((c) => DEVICE_STATES.forEach((s) => (out[s] += c[s])));
  return out;
}

/** Whether the failures cross the threshold (`5%` of the devices in a final state, or `5` devices). */
export function thresholdCrossed(row: DeploymentRow, all: Counts): { crossed: boolean; reason: string } {
  const { maxFailures, minFinal } = row.spec;
  const failures = all.failed + all['timed-out'] - row.failureBase;
  const finals = all.succeeded + all.failed + all['timed-out'];
  const crossed =
    finals >= minFinal &&
    failures > 0 &&
    (maxFailures.endsWith('%')
      ? failures * 100 > Number(maxFailures.slice(0, -1)) * finals
      : failures > Number(maxFailures));
  const reason =
    `${failures} of ${finals} devices in a final state failed (${all.failed} failed, ` +
    `${all['timed-out']} timed out; ${all.succeeded} succeeded), threshold ${maxFailures}` +
    (row.failureBase ? ` after ${row.failureBase} acknowledged` : '');
  return { crossed, reason };
}

/**
 * The deployment scheduler: opens waves, judges soak, success, failure threshold and timeouts. Every step is
 * a conditional update of the deployment row, so when two processes tick at once, one of them makes each step.
 * The app calls `tick` periodically (docs/deployments.md); state lives in the database, so a restart resumes
 * where it stopped.
 */
export function createScheduler(int: DeploymentInternals): Scheduler {
  const { repo } = int;
  let chain: Promise<void> = Promise.resolve();

  /** Brings the cache in line with the database (another replica's steps) and the counters up to date. */
  async function sync(): Promise<Live[]> {
    const rows = await repo.list({ states: VISIBLE });
    const cache = await int.load();
    const seen = new Set(rows.map((r) => r.id));
    for (const id of [...cache.byId.keys()]) {
      if (!seen.has(id)) {
        const row = await repo.get(id);
        if (row) await int.refreshRow(row);
      }
    }
    for (const row of rows) {
      const live = cache.byId.get(row.id);
      // Only a newer row replaces the cached one: this process may have moved it after the list was read.
      if (!live || row.updatedAt > live.row.updatedAt) await int.refreshRow(row);
    }
    const lives = rows.map((r) => cache.byId.get(r.id)).filter((l): l is Live => l !== undefined);
    for (const live of lives) await int.refreshCounts(live);
    return lives;
  }

  /** Moves members found in the database (this process may not hold them yet). */
  async function moveRows(
    live: Live,
    rows: Awaited<ReturnType<typeof repo.stale>>,
    to: 'timed-out' | 'skipped',
    reason: string,
  ): Promise<void> {
    for (const r of rows) {
      const m = live.members.get(r.deviceId);
      if (!m && r.state !== 'pending') {
        live.members.set(r.deviceId, {
          state: r.state,
          wave: r.wave,
          protocol: r.protocol,
          previousVersion: r.previousVersion,
          offeredAt: r.offeredAt,
          updatedAt: r.updatedAt,
          reason: r.reason,
        });
      }
      await int.move(live, r.deviceId, to, { wave: r.wave, reason }, reason);
    }
  }

  async function timeouts(live: Live, now: Date): Promise<void> {
    const { spec, currentWave, waveOpenedAt } = live.row;
    const cutoff = new Date(now.getTime() - spec.timeoutSeconds * 1000).toISOString();
    const stale = await repo.stale(
      live.row.id,
      ['offered', 'downloading', 'downloaded'],
      cutoff,
      null,
      BATCH,
    );
    await moveRows(live, stale, 'timed-out', `no success within ${spec.timeoutSeconds} s of the offer`);
    if (!waveOpenedAt) return;
    // Members that never checked in while their wave was open leave it (skipped, not failed): the timeout
    // plus the time the rate cap needs to offer the wave.
    const pending = live.counts[currentWave]?.pending ?? 0;
    const paceSeconds = spec.ratePerMinute ? (pending / spec.ratePerMinute) * 60 : 0;
    const deadline = Date.parse(waveOpenedAt) + (spec.timeoutSeconds + paceSeconds) * 1000;
    if (now.getTime() <= deadline) return;
    for (let w = 0; w <= currentWave; w++) {
      if ((live.counts[w]?.pending ?? 0) === 0) continue;
      const rows = await repo.stale(live.row.id, ['pending'], null, w, BATCH);
      await moveRows(live, rows, 'skipped', `not seen within ${spec.timeoutSeconds} s of its wave opening`);
    }
  }

  /** RIOT and other pushed protocols: offer the pending members of open waves, at the deployment's pace. */
  async function push(live: Live): Promise<void> {
    const pusher = int.deps.push;
    const { row } = live;
    if (!pusher || (row.state !== 'running' && row.state !== 'soaking')) return;
    const release = await int.deps.releases.find(row.product, row.version);
    if (!release || !pusher.handles(null, release)) return;
    if (!inWindow(row.spec, int.clock())) return;
    const nowMs = int.clock().getTime();
    live.offers.forgetUpTo(nowMs - 60_000);
    let budget = Math.min(BATCH, row.spec.ratePerMinute ? row.spec.ratePerMinute - live.offers.count : BATCH);
    if (row.spec.maxDownloads !== undefined) {
      const inFlight = live.counts.reduce((n, c) => n + c.offered + c.downloading, live.reserved);
      budget = Math.min(budget, row.spec.maxDownloads - inFlight);
    }
    for (let w = 0; w <= row.currentWave && budget > 0; w++) {
      const rows = await repo.stale(row.id, ['pending'], null, w, BATCH);
      for (const r of rows) {
        if (budget <= 0) break;
        if (!pusher.handles(r.protocol, release)) continue;
        budget -= 1;
        live.offers.add(nowMs);
        if (await int.move(live, r.deviceId, 'offered', { wave: w }, `wave ${w + 1}, notified`)) {
          const accepted = await pusher.offer(r.deviceId, release).catch(() => false);
          if (!accepted) {
            int.deps.history.record(r.deviceId, 'deployment', row.version, `${row.id}: notify not answered`);
          }
        }
      }
    }
  }

  /** One step of one deployment; returns the new row when it moved (the caller steps again). */
  async function step(live: Live, now: Date): Promise<DeploymentRow | undefined> {
    const { row } = live;
    const at = now.toISOString();
    const waves = row.spec.waves.length;
    if (row.state === 'scheduled') {
      if (row.spec.startAt && at < row.spec.startAt) return undefined;
      return int.advance(
        row,
        { state: 'running', currentWave: 0, waveOpenedAt: at, soakUntil: null },
        { kind: 'wave-opened', detail: `wave 1 of ${waves} (${row.spec.waves[0]?.spec ?? ''})` },
      );
    }
    if (row.state !== 'running' && row.state !== 'soaking') return undefined;

    const all = sum(live.counts);
    const threshold = thresholdCrossed(row, all);
    if (threshold.crossed) {
      const reason = `halted in wave ${row.currentWave + 1}: ${threshold.reason}`;
      return int.advance(
        row,
        { state: row.spec.rollback ? 'rolled-back' : 'paused', haltReason: reason },
        { kind: row.spec.rollback ? 'halted, rolled back' : 'halted', detail: reason },
      );
    }

    const k = row.currentWave;
    if (row.state === 'running') {
      const c = live.counts[k] ?? emptyCounts();
      const judged = total(c) - c.skipped;
      if (judged > 0 && c.succeeded * 100 < row.spec.successPercent * judged) return undefined;
      const soakUntil = new Date(now.getTime() + row.spec.soakSeconds * 1000).toISOString();
      return int.advance(
        row,
        { state: 'soaking', soakUntil },
        {
          kind: 'wave-passed',
          detail: `wave ${k + 1}: ${c.succeeded} of ${judged} succeeded; soaking ${row.spec.soakSeconds} s`,
        },
      );
    }
    if (row.soakUntil && at < row.soakUntil) return undefined;
    if (k + 1 >= waves) {
      return int.advance(
        row,
        { state: 'completed', soakUntil: null },
        {
          kind: 'completed',
          detail: `${all.succeeded} succeeded, ${all.failed} failed, ${all['timed-out']} timed out, ${all.skipped} skipped`,
        },
      );
    }
    return int.advance(
      row,
      { state: 'running', currentWave: k + 1, waveOpenedAt: at, soakUntil: null },
      { kind: 'wave-opened', detail: `wave ${k + 2} of ${waves} (${row.spec.waves[k + 1]?.spec ?? ''})` },
    );
  }

  async function pass(now: Date): Promise<void> {
    for (const live of await sync()) {
      try {
        if (live.row.state === 'running' || live.row.state === 'soaking') await timeouts(live, now);
        // A few steps per pass: a wave with no soak can pass and the next open in the same pass.
        for (let i = 0; i < 4; i++) {
          const next = await step(live, now);
          if (!next) break;
          live.row = next;
        }
        await push(live);
      } catch (err) {
        int.deps.onError?.(err);
      }
    }
  }

  return {
    tick(now) {
      const run = chain.then(() => pass(now));
      chain = run.catch(() => undefined);
      return run;
    },
  };
}
