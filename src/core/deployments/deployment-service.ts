import { EventEmitter } from 'node:events';
import { unauditedLog, type AuditLog } from '../audit/audit-log.js';
import type { AuditContext } from '../audit/types.js';
import { randomBytes } from 'node:crypto';
import { DomainError } from '../errors.js';
import { isoNow, systemClock, type Clock } from '../clock.js';
import { createSnapshot } from '../cache.js';
import type { Release } from '../catalog/types.js';
import type { DeviceFacts } from '../groups/filter.js';
import type { GroupService } from '../groups/group-service.js';
import { compareVersions } from '../versions/compare.js';
import { normalizeVersion } from '../versions/release-version.js';
import type { DeploymentRepository, DeploymentRow, DeviceRow, StoredSpec } from './ports.js';
import { compileTarget, type GroupView } from './target.js';
import { OfferWindow } from './offer-window.js';
import {
  ACTIVE_STATES,
  DEVICE_STATES,
  emptyCounts,
  type Counts,
  type Deployment,
  type DeploymentSpec,
  type DeploymentState,
  type DeviceInDeployment,
  type DeviceState,
  type DryRun,
} from './types.js';
import { validateSpec } from './spec.js';
import { positionOf, waveBounds, waveOf } from './waves.js';
import { createScheduler, type Scheduler } from './scheduler.js';
import { REPORTS_NO_VERSION } from './reports.js';

export interface DeploymentServiceDeps {
  repo: DeploymentRepository;
  groups: GroupService;
  releases: { find(product: string, version: string): Promise<Release | undefined> };
  products: { find(name: string): Promise<{ deviceFamily: string } | undefined> };
  /** Device history: every transition is also an event of the device. */
  history: {
    record(deviceId: string, kind: 'deployment', version: string | null, detail: string | null): void;
    /** Writes pending check-ins, so a target is matched against every device seen so far. */
    flush?(): Promise<void>;
  };
  clock?: Clock;
  /** Protocols that push instead of being polled (RIOT SUIT): called as a device's wave opens. */
  push?: PushOffers;
  onError?: (err: unknown) => void;
  /** Operator actions (create, pause, resume, cancel, rollback) with their audit record, one transaction. */
  audit?: Pick<AuditLog, 'withAudit'>;
}

/** Telling a device to fetch a release now (RIOT `/suit/trigger`); true when the device accepted. */
export interface PushOffers {
  /** Whether this protocol's devices are pushed to, and this release can be pushed. */
  handles(protocol: string | null, release: Release): boolean;
  offer(deviceId: string, release: Release): Promise<boolean>;
}

/** A member's state as the check-in path keeps it: pending members are not held (they are the default). */
export interface Member {
  state: DeviceState;
  wave: number;
  protocol: string | null;
  previousVersion: string | null;
  offeredAt: string | null;
  updatedAt: string;
  reason: string | null;
  /** A rollback offer was recorded (once) for this device. */
  rollbackOffered?: boolean;
}

export interface Live {
  row: DeploymentRow;
  members: Map<string, Member>;
  /** Counters per wave, as of the last tick plus this process's moves since. */
  counts: Counts[];
  /** When this process made its recent offers (the rate cap), ms. */
  offers: OfferWindow;
  /** Offers being written right now (counted against the caps until they land). */
  reserved: number;
  /** Moves between their conditional write and its effect on `counts` (`refreshCounts` waits for them). */
  writing: number;
  /** Called when `writing` drops to 0 while `refreshCounts` waits. */
  onWritten?: () => void;
  /** Set while `refreshCounts` reads the counters from the database: moves wait for it before writing. */
  countsGate?: Promise<void>;
  matches: ReturnType<typeof compileTarget>;
  /** Per-device chain: one device's transitions run one after another. */
  chains: Map<string, Promise<unknown>>;
}

interface Cache {
  byId: Map<string, Live>;
  /** Per product: the active deployment (at most one) and those rolled back, newest first. */
  byProduct: Map<string, { active?: Live; rolledBack: Live[] }>;
}

const VISIBLE_STATES: readonly DeploymentState[] = [...ACTIVE_STATES, 'rolled-back'];
const IN_FLIGHT: readonly DeviceState[] = ['offered', 'downloading'];

export const sumCounts = (perWave: readonly Counts[]): Counts => {
  const total = emptyCounts();
  for (const c of perWave) for (const s of DEVICE_STATES) total[s] += c[s];
  return total;
};
export const totalOf = (c: Counts): number => DEVICE_STATES.reduce((n, s) => n + c[s], 0);

/**
 * Deployments: who gets a release, how fast, and when to stop (docs/deployments.md). Active deployments, their
 * rules and the state of every member that left `pending` are held in memory, so a check-in costs no query;
 * each state change is one conditional write (`... where state = <expected>`) made before the answer is sent,
 * so a crash loses nothing that was answered, and two processes never both make the same move.
 */
export function createDeploymentService(deps: DeploymentServiceDeps) {
  const { repo, groups, clock = systemClock } = deps;
  const audit = deps.audit ?? unauditedLog({ deployments: repo });
  /** Thrown inside an audited advance that lost its race: rolls the (empty) change and its record back. */
  const LOST_RACE = Symbol('lost race');
  const events = new EventEmitter();
  // Held until `invalidate` (a change made by another replica); this process's changes update it in place.
  const cache = createSnapshot<Cache>({
    name: 'deployments',
    load: () =>
      repo
        .list({ states: [...VISIBLE_STATES] })
        .then((rows) => Promise.all(rows.map(loadLive)))
        .then(index),
  });

  function toCounts(rows: { wave: number; state: DeviceState; count: number }[], waves: number): Counts[] {
    const out = Array.from({ length: waves }, emptyCounts);
    for (const r of rows) {
      const c = out[r.wave];
      if (c && r.state in c) c[r.state] += r.count;
    }
    return out;
  }

  function memberOf(r: DeviceRow): Member {
    return {
      state: r.state,
      wave: r.wave,
      protocol: r.protocol,
      previousVersion: r.previousVersion,
      offeredAt: r.offeredAt,
      updatedAt: r.updatedAt,
      reason: r.reason,
    };
  }

  async function loadLive(row: DeploymentRow): Promise<Live> {
    const [touched, counts] = await Promise.all([repo.touched(row.id), repo.counts(row.id)]);
    return {
      row,
      members: new Map(touched.map((r) => [r.deviceId, memberOf(r)])),
      counts: toCounts(counts, row.spec.waves.length),
      offers: new OfferWindow(),
      reserved: 0,
      writing: 0,
      matches: compileTarget(row.spec.target),
      chains: new Map(),
    };
  }

  function index(lives: Live[]): Cache {
    const byId = new Map(lives.map((l) => [l.row.id, l]));
    const byProduct: Cache['byProduct'] = new Map();
    for (const live of lives) {
      const entry = byProduct.get(live.row.product) ?? { rolledBack: [] };
      if (ACTIVE_STATES.includes(live.row.state)) entry.active = live;
      else entry.rolledBack.push(live);
      byProduct.set(live.row.product, entry);
    }
    for (const e of byProduct.values())
      e.rolledBack.sort((a, b) => (a.row.createdAt < b.row.createdAt ? 1 : -1));
    return { byId, byProduct };
  }

  const load = (): Promise<Cache> => cache.get();
  /** The same without a promise, once loaded (the check-in path). */
  const loaded = (): Cache | undefined => cache.peek();

  /** Replaces one deployment's row in the cache (its state changed); moves it between the product slots. */
  async function refreshRow(row: DeploymentRow): Promise<void> {
    const c = await load();
    const live = c.byId.get(row.id);
    if (!live) {
      if (VISIBLE_STATES.includes(row.state)) c.byId.set(row.id, await loadLive(row));
    } else {
      live.row = row;
      if (!VISIBLE_STATES.includes(row.state)) c.byId.delete(row.id);
    }
    const fresh = index([...c.byId.values()]);
    c.byProduct = fresh.byProduct;
    events.emit('changed', row.id);
    // A deployment-level change (created, wave opened, paused, halted…), which other replicas must reload;
    // a device's move within a deployment is the conditional write's, not theirs.
    events.emit('deployment-changed', row.id);
  }

  const changed = (id: string) => events.emit('changed', id);

  /** The deployment (active, or also rolled back) of this product and version, from memory. */
  async function deploymentOf(
    product: string,
    version: string,
    rolledBack: boolean,
  ): Promise<Live | undefined> {
    const slot = (await load()).byProduct.get(product);
    if (!slot) return undefined;
    if (slot.active?.row.version === version) return slot.active;
    return rolledBack ? slot.rolledBack.find((l) => l.row.version === version) : undefined;
  }

  /** A move's write has landed in memory (or failed): `refreshCounts` may read the database once none is left. */
  function written(live: Live): void {
    live.writing -= 1;
    if (live.writing === 0) live.onWritten?.();
  }

  /**
   * Replaces the counters with the database's (the scheduler's tick: other replicas' moves). Never while one of
   * this process's moves is between its write and its `counts` update: a snapshot read before that write lands but
   * assigned after the move added itself would drop the move (an offer dropped so lets one more download start
   * than `maxDownloads`), and one read after it lands but before the move's own update would count it twice. So
   * the read waits until no move is writing, and moves wait for the read (one query, once a tick).
   */
  async function refreshCounts(live: Live): Promise<void> {
    while (live.countsGate) await live.countsGate;
    let open: () => void = () => undefined;
    live.countsGate = new Promise<void>((resolve) => (open = resolve));
    try {
      if (live.writing > 0) await new Promise<void>((resolve) => (live.onWritten = resolve));
      live.onWritten = undefined;
      live.counts = toCounts(await repo.counts(live.row.id), live.row.spec.waves.length);
    } finally {
      live.onWritten = undefined;
      live.countsGate = undefined;
      open();
    }
  }

  /**
   * Moves one member to `to` if it is still where this process last saw it, recording the event in the
   * deployment and in the device's history. Returns false when another process moved it first (the member is
   * then reloaded).
   */
  function move(
    live: Live,
    deviceId: string,
    to: DeviceState,
    extra: {
      wave?: number;
      protocol?: string | null;
      previousVersion?: string | null;
      reason?: string | null;
    },
    detail: string | null,
  ): Promise<boolean> {
    const prior = live.chains.get(deviceId) ?? Promise.resolve();
    const run = prior.then(async () => {
      while (live.countsGate) await live.countsGate;
      const current = live.members.get(deviceId);
      const from: DeviceState = current?.state ?? 'pending';
      if (from === to) return false;
      const wave = current?.wave ?? extra.wave;
      if (wave === undefined) return false;
      const at = isoNow(clock);
      const offeredAt = to === 'offered' ? at : undefined;
      // From here to the `counts` update (or the failure), `refreshCounts` must not read the database.
      live.writing += 1;
      const outcome = await repo
        .moveDevice(
          {
            deploymentId: live.row.id,
            deviceId,
            wave,
            from,
            to,
            at,
            protocol: extra.protocol,
            previousVersion: extra.previousVersion,
            offeredAt,
            reason: extra.reason,
          },
          detail,
        )
        .catch((err: unknown) => {
          written(live);
          throw err;
        });
      if (!outcome) {
        written(live);
        const fresh = await repo.device(live.row.id, deviceId);
        if (fresh && fresh.state !== 'pending') live.members.set(deviceId, memberOf(fresh));
        return false;
      }
      const member: Member = current ?? {
        state: to,
        wave,
        protocol: null,
        previousVersion: null,
        offeredAt: null,
        updatedAt: at,
        reason: null,
      };
      member.state = to;
      member.updatedAt = at;
      if (extra.protocol !== undefined) member.protocol = extra.protocol;
      if (extra.previousVersion !== undefined) member.previousVersion = extra.previousVersion;
      if (offeredAt) member.offeredAt = offeredAt;
      if (extra.reason !== undefined) member.reason = extra.reason;
      live.members.set(deviceId, member);
      const counts = live.counts[wave];
      if (counts) {
        if (outcome === 'moved') counts[from] = Math.max(0, counts[from] - 1);
        counts[to] += 1;
      }
      written(live);
      deps.history.record(
        deviceId,
        'deployment',
        live.row.version,
        `${live.row.id}: ${to}${detail ? ` (${detail})` : ''}`,
      );
      changed(live.row.id);
      return true;
    });
    const settled = run.catch((err: unknown) => {
      deps.onError?.(err);
      return false;
    });
    live.chains.set(deviceId, settled);
    void settled.then(() => {
      if (live.chains.get(deviceId) === settled) live.chains.delete(deviceId);
    });
    return run;
  }

  async function toDeployment(row: DeploymentRow): Promise<Deployment> {
    const perWave = toCounts(await repo.counts(row.id), row.spec.waves.length);
    const counts = sumCounts(perWave);
    const s = row.spec;
    return {
      id: row.id,
      product: row.product,
      version: row.version,
      state: row.state,
      currentWave: row.currentWave,
      waves: s.waves.map((w, i) => {
        const c = perWave[i] ?? emptyCounts();
        return { ...w, counts: c, total: totalOf(c) };
      }),
      target: s.target,
      soakSeconds: s.soakSeconds,
      successPercent: s.successPercent,
      maxFailures: s.maxFailures,
      minFinal: s.minFinal,
      timeoutSeconds: s.timeoutSeconds,
      ...(s.ratePerMinute !== undefined ? { ratePerMinute: s.ratePerMinute } : {}),
      ...(s.maxDownloads !== undefined ? { maxDownloads: s.maxDownloads } : {}),
      ...(s.window ? { window: s.window } : {}),
      ...(s.startAt ? { startAt: s.startAt } : {}),
      rollback: s.rollback,
      ...(row.haltReason ? { haltReason: row.haltReason } : {}),
      ...(row.waveOpenedAt ? { waveOpenedAt: row.waveOpenedAt } : {}),
      ...(row.soakUntil ? { soakUntil: row.soakUntil } : {}),
      counts,
      total: totalOf(counts),
      options: s.options,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }

  async function getRow(id: string): Promise<DeploymentRow> {
    const row = typeof id === 'string' && id.length <= 64 ? await repo.get(id) : undefined;
    if (!row) throw new DomainError('DEPLOYMENT_NOT_FOUND', `no deployment "${String(id).slice(0, 64)}"`);
    return row;
  }

  /**
   * One operator or scheduler step on a deployment, as a conditional update: it applies only if the
   * deployment is still in the state it was read in.
   */
  async function advance(
    row: DeploymentRow,
    patch: Partial<Omit<DeploymentRow, 'id' | 'spec'>>,
    event: { kind: string; detail: string | null },
    /** An operator's action: recorded in the audit log in the same transaction as the change. */
    operator?: { by: AuditContext; action: string },
  ): Promise<DeploymentRow | undefined> {
    const updatedAt = isoNow(clock);
    const expected = { state: row.state, currentWave: row.currentWave };
    const ok = operator
      ? await audit
          .withAudit(
            operator.by,
            operator.action,
            row.id,
            async (tx) => {
              if (!(await tx.deployments.advance(row.id, expected, { ...patch, updatedAt }, event)))
                throw LOST_RACE;
              return true;
            },
            () => ({ product: row.product, version: row.version, from: row.state, detail: event.detail }),
          )
          .catch((err: unknown) => {
            if (err === LOST_RACE) return false;
            throw err;
          })
      : await repo.advance(row.id, expected, { ...patch, updatedAt }, event);
    if (!ok) {
      // Another process (or request) moved it first: take its row.
      const fresh = await repo.get(row.id);
      if (fresh) await refreshRow(fresh);
      return undefined;
    }
    const next = { ...row, ...patch, updatedAt };
    await refreshRow(next);
    return next;
  }

  /** Matches the target against the registry now: the dry run, and the members written at creation. */
  async function match(
    id: string,
    spec: ReturnType<typeof validateSpec>,
    version: string,
    family: string,
  ): Promise<{
    members: { deviceId: string; position: number; protocol: string | null }[];
    bounds: StoredSpec['waves'];
  }> {
    const matches = compileTarget(spec.target);
    await deps.history.flush?.();
    const [tags, groupViews] = await Promise.all([groups.tagMap(), groups.groupMap()]);
    const now = clock();
    const found: { deviceId: string; position: number; protocol: string | null }[] = [];
    const push = family.toLowerCase() === 'riot';
    const listed = new Set(spec.target.devices);
    const none = new Set<string>();
    for (let after = ''; ;) {
      const page = await repo.scanDevices(spec.product, after, 2000);
      for (const d of page) {
        const facts: DeviceFacts = {
          id: d.id,
          product: spec.product,
          version: d.version,
          tags: tags.get(d.id) ?? none,
          attributes: d.attributes,
          lastSeen: d.lastSeen,
        };
        // Devices already running the release have nothing to do in it.
        if (d.version !== null && compareVersions(d.version, version) === 0) continue;
        if (!matches(facts, groupViews as Map<string, GroupView>, now)) continue;
        found.push({
          deviceId: d.id,
          position: positionOf(id, d.id),
          protocol: push ? 'riot-suit' : d.protocol,
        });
        listed.delete(d.id);
      }
      if (page.length < 2000) break;
      after = (page[page.length - 1] as { id: string }).id;
    }
    // Devices named in the target that never reached the registry (RIOT nodes are notified, not polled) are
    // members too, unless a filter needs facts about them.
    if (!spec.target.filter) {
      for (const deviceId of listed)
        found.push({ deviceId, position: positionOf(id, deviceId), protocol: push ? 'riot-suit' : null });
    }
    const sorted = found.map((f) => f.position).sort((a, b) => a - b);
    return { members: found, bounds: waveBounds(spec.waves, sorted) };
  }

  const service = {
    events,

    /** Sets how pushed protocols (RIOT) are offered a release; the app wires it once the CoAP client exists. */
    usePush(push: PushOffers): void {
      deps.push = push;
    },

    /** Drops the in-memory copy; the next use reloads it (a change made by another replica). */
    invalidate(): void {
      cache.drop();
    },

    async get(id: string): Promise<Deployment | undefined> {
      const row = await repo.get(id);
      return row && toDeployment(row);
    },

    /** Throws DEPLOYMENT_NOT_FOUND. */
    async show(id: string): Promise<Deployment> {
      return toDeployment(await getRow(id));
    },

    async list(filter: { product?: string; states?: DeploymentState[] } = {}): Promise<Deployment[]> {
      return Promise.all((await repo.list(filter)).map(toDeployment));
    },

    /** With `dryRun`, nothing is written: the devices matched and the size of each wave. */
    async create(
      by: AuditContext,
      input: DeploymentSpec & { dryRun?: boolean },
    ): Promise<Deployment | DryRun> {
      const spec = validateSpec(input);
      const product = await deps.products.find(spec.product);
      if (!product) throw new DomainError('PRODUCT_NOT_FOUND', `product "${spec.product}" does not exist`);
      const version = normalizeVersion(spec.version);
      const release = await deps.releases.find(spec.product, version);
      if (!release || release.state !== 'published') {
        throw new DomainError('RELEASE_NOT_FOUND', `${spec.product} has no published release ${version}`);
      }
      const groupViews = await groups.groupMap();
      for (const g of spec.target.groups) {
        if (!groupViews.has(g)) throw new DomainError('GROUP_NOT_FOUND', `no group "${g}"`);
      }
      const id = `dep-${randomBytes(6).toString('hex')}`;
      const { members, bounds } = await match(id, spec, version, product.deviceFamily);
      const placed = members
        .map((m) => ({ ...m, wave: waveOf(bounds, m.position) }))
        .filter((m): m is typeof m & { wave: number } => m.wave !== undefined);
      if (input.dryRun) {
        const sizes = bounds.map((w) => ({ spec: w.spec, size: 0 }));
        for (const m of placed) (sizes[m.wave] as { size: number }).size += 1;
        return { matched: members.length, waves: sizes };
      }
      const c = await load();
      const current = c.byProduct.get(spec.product)?.active;
      if (current) {
        throw new DomainError(
          'INVALID_STATE',
          `${spec.product} already has an active deployment (${current.row.id}); cancel it or let it finish`,
        );
      }
      const at = isoNow(clock);
      const { product: _p, version: _v, waves: _w, ...rest } = spec;
      const row: DeploymentRow = {
        id,
        product: spec.product,
        version,
        state: 'scheduled',
        currentWave: 0,
        spec: { ...rest, waves: bounds },
        waveOpenedAt: null,
        soakUntil: null,
        failureBase: 0,
        haltReason: null,
        createdAt: at,
        updatedAt: at,
      };
      await audit.withAudit(
        by,
        'deployment.create',
        row.id,
        (tx) =>
          tx.deployments.create(
            row,
            placed.map((m) => ({ deviceId: m.deviceId, wave: m.wave, protocol: m.protocol })),
          ),
        () => ({
          product: row.product,
          version: row.version,
          devices: placed.length,
          waves: row.spec.waves.length,
        }),
      );
      await refreshRow(row);
      // Open the first wave at once unless the start time is later.
      await scheduler.tick(clock());
      return toDeployment(await getRow(id));
    },

    async pause(by: AuditContext, id: string): Promise<Deployment> {
      const row = await getRow(id);
      if (!['scheduled', 'running', 'soaking'].includes(row.state)) {
        throw new DomainError(
          'INVALID_STATE',
          `deployment ${id} is ${row.state}; only a running one can be paused`,
        );
      }
      const next = await advance(
        row,
        { state: 'paused', haltReason: 'paused by the operator' },
        { kind: 'paused', detail: 'by the operator' },
        { by, action: 'deployment.pause' },
      );
      if (!next) throw new DomainError('INVALID_STATE', `deployment ${id} changed meanwhile; try again`);
      return toDeployment(next);
    },

    async resume(by: AuditContext, id: string): Promise<Deployment> {
      const row = await getRow(id);
      if (row.state !== 'paused') {
        throw new DomainError('INVALID_STATE', `deployment ${id} is ${row.state}, not paused`);
      }
      // After a halt, the failures seen so far are acknowledged: the threshold counts new ones only.
      const counts = sumCounts(toCounts(await repo.counts(id), row.spec.waves.length));
      const failures = counts.failed + counts['timed-out'];
      const state: DeploymentState =
        row.waveOpenedAt === null ? 'scheduled' : row.soakUntil !== null ? 'soaking' : 'running';
      const next = await advance(
        row,
        { state, haltReason: null, failureBase: failures },
        { kind: 'resumed', detail: `by the operator; ${failures} earlier failures acknowledged` },
        { by, action: 'deployment.resume' },
      );
      if (!next) throw new DomainError('INVALID_STATE', `deployment ${id} changed meanwhile; try again`);
      await scheduler.tick(clock());
      return toDeployment(await getRow(id));
    },

    async cancel(by: AuditContext, id: string): Promise<Deployment> {
      const row = await getRow(id);
      if (!ACTIVE_STATES.includes(row.state)) {
        throw new DomainError('INVALID_STATE', `deployment ${id} is already ${row.state}`);
      }
      const next = await advance(
        row,
        { state: 'cancelled' },
        { kind: 'cancelled', detail: 'by the operator' },
        { by, action: 'deployment.cancel' },
      );
      if (!next) throw new DomainError('INVALID_STATE', `deployment ${id} changed meanwhile; try again`);
      return toDeployment(next);
    },

    /** Offers every device that installed the release the one it ran before; no new offers of it. */
    async rollback(by: AuditContext, id: string, reason = 'by the operator'): Promise<Deployment> {
      const row = await getRow(id);
      if (row.state === 'rolled-back' || row.state === 'cancelled') {
        throw new DomainError('INVALID_STATE', `deployment ${id} is ${row.state}`);
      }
      const next = await advance(
        row,
        { state: 'rolled-back' },
        { kind: 'rolled-back', detail: reason },
        { by, action: 'deployment.rollback' },
      );
      if (!next) throw new DomainError('INVALID_STATE', `deployment ${id} changed meanwhile; try again`);
      return toDeployment(next);
    },

    async listEvents(id: string, options: { limit?: number; afterId?: number; deviceId?: string } = {}) {
      await getRow(id);
      return repo.events(id, {
        limit: options.limit ?? 200,
        afterId: options.afterId,
        deviceId: options.deviceId,
      });
    },

    async deviceState(deploymentId: string, deviceId: string): Promise<DeviceInDeployment | undefined> {
      const live = (await load()).byId.get(deploymentId);
      const m = live?.members.get(deviceId);
      if (m) {
        return {
          deploymentId,
          deviceId,
          state: m.state,
          wave: m.wave,
          ...(m.previousVersion ? { previousVersion: m.previousVersion } : {}),
          updatedAt: m.updatedAt,
          ...(m.reason ? { reason: m.reason } : {}),
        };
      }
      const r = await repo.device(deploymentId, deviceId);
      if (!r) return undefined;
      return {
        deploymentId,
        deviceId,
        state: r.state,
        wave: r.wave,
        ...(r.previousVersion ? { previousVersion: r.previousVersion } : {}),
        updatedAt: r.updatedAt,
        ...(r.reason ? { reason: r.reason } : {}),
      };
    },

    /**
     * Download bookkeeping from the serving path (`recordDownload`): offered → downloading → downloaded, or
     * failed. For protocols that report no version afterwards (ESP-AT, RIOT), a completed download is the
     * success, marked as such. Returns at once; the write is chained per device.
     */
    onDownload(
      deviceId: string,
      release: Release,
      stage: 'started' | 'completed' | 'failed',
      detail?: string,
    ): void {
      void (async () => {
        const live = await deploymentOf(release.product, release.version, false);
        const m = live?.members.get(deviceId);
        if (!live || !m) return;
        if (stage === 'started') {
          if (m.state === 'offered') await move(live, deviceId, 'downloading', {}, detail ?? null);
        } else if (stage === 'completed') {
          if (m.state === 'offered' || m.state === 'downloading') {
            await move(live, deviceId, 'downloaded', {}, detail ?? null);
          }
          // A RIOT device fetches the manifest first: only the image itself completes its download.
          const manifestOnly = /^(riot\.suit\.|manifest)/.test(detail ?? '');
          if (m.state === 'downloaded' && REPORTS_NO_VERSION.has(m.protocol ?? '') && !manifestOnly) {
            const reason = `download completed (${m.protocol} reports no version: counted as its success)`;
            await move(live, deviceId, 'succeeded', { reason }, reason);
          }
        } else if (m.state === 'offered' || m.state === 'downloading') {
          const reason = `download failed${detail ? `: ${detail}` : ''}`;
          await move(live, deviceId, 'failed', { reason }, reason);
        }
      })().catch((err: unknown) => deps.onError?.(err));
    },

    /** A protocol's explicit status report (DDI feedback, SWUpdate): moves the device in the deployment that offered `version`. */
    async reportOutcome(r: {
      deviceId: string;
      product: string;
      version: string;
      outcome: 'downloading' | 'downloaded' | 'succeeded' | 'failed' | 'rejected' | 'cancel-acknowledged';
      detail?: string;
    }): Promise<void> {
      let version: string;
      try {
        version = normalizeVersion(r.version);
      } catch {
        return;
      }
      const live = await deploymentOf(r.product, version, true);
      const m = live?.members.get(r.deviceId);
      const detail = r.detail ? `${r.outcome}: ${r.detail.slice(0, 500)}` : r.outcome;
      if (!live || !m) return;
      const order: DeviceState[] = ['offered', 'downloading', 'downloaded'];
      const open = order.includes(m.state);
      switch (r.outcome) {
        case 'downloading':
        case 'downloaded':
          if (open && order.indexOf(m.state) < order.indexOf(r.outcome))
            await move(live, r.deviceId, r.outcome, {}, detail);
          return;
        case 'succeeded':
          if (open) await move(live, r.deviceId, 'succeeded', { reason: detail }, detail);
          return;
        case 'failed':
        case 'rejected':
          if (open) await move(live, r.deviceId, 'failed', { reason: detail }, detail);
          return;
        case 'cancel-acknowledged':
          deps.history.record(r.deviceId, 'deployment', version, `${live.row.id}: ${detail}`);
          return;
      }
    },

    /** Whether an active deployment targets the group (it cannot be deleted then). */
    async targetsGroup(group: string): Promise<boolean> {
      const rows = await repo.list({ states: [...ACTIVE_STATES] });
      return rows.some((r) => r.spec.target.groups.includes(group));
    },

    /** The scheduler's step: the app calls it periodically (on the leader replica only, once there are several). */
    tick: (now: Date) => scheduler.tick(now),

    // The check-in path's internals, used by core/updates (the one update decision) and the scheduler.
    internal: { load, loaded, move, advance, refreshRow, refreshCounts, toCounts, repo, groups, clock, deps },
  };

  const scheduler: Scheduler = createScheduler(service.internal);
  return service;
}

export type DeploymentService = ReturnType<typeof createDeploymentService>;
export type DeploymentInternals = DeploymentService['internal'];
export { IN_FLIGHT };
