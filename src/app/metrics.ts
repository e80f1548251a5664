import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DownloadStage, Metrics, RunningVersion, Transport } from '../core/metrics/metrics.js';

/** Distinct running versions kept as their own series per product; the rest are summed as `other`. */
const MAX_VERSIONS_PER_PRODUCT = 200;
const CLASSES = ['reset', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/**
 * Label children bound once and found again through nested maps: the hot paths do two map lookups and an
 * increment, with no string building or label object per request.
 */
function bound2<C>(make: (a: string, b: string) => C): (a: string, b: string) => C {
  const root = new Map<string, Map<string, C>>();
  return (a, b) => {
    let level = root.get(a);
    if (!level) root.set(a, (level = new Map()));
    let child = level.get(b);
    if (!child) level.set(b, (child = make(a, b)));
    return child;
  };
}

/**
 * Increments summed in a plain number and handed to prom-client when it collects (every scrape): a labelled
 * child's `inc` hashes and validates its labels on each call, which the CoAP path paid three times per block.
 */
function deferredCounters() {
  const flushes: (() => void)[] = [];
  return {
    wrap(child: { inc(value: number): void }): { inc(value?: number): void } {
      let pending = 0;
      flushes.push(() => {
        if (pending === 0) return;
        child.inc(pending);
        pending = 0;
      });
      return { inc: (value = 1) => void (pending += value) };
    },
    flush(): void {
      for (const f of flushes) f();
    },
  };
}

/** What the deployment gauges need of a deployment (`services.deployments.list`). */
export interface ActiveDeployment {
  id: string;
  product: string;
  version: string;
  state: string;
  waves: { counts: Record<string, number> }[];
}

export interface PrometheusMetrics extends Metrics {
  registry: Registry;
  /** The write-behind queue's depth, read at scrape time. */
  observeQueue(depth: () => number): void;
  /** Sets the devices-per-version gauge from one grouped query at start-up. */
  initDevices(counts: { product: string | null; version: string | null; count: number }[]): void;
  /**
   * The deployment gauges, read at scrape time from the deployments' maintained counters (a row per deployment,
   * wave and state: the cost does not grow with the fleet). Active deployments only, so the label set stays small.
   */
  observeDeployments(active: () => Promise<ActiveDeployment[]>): void;
  text(): Promise<string>;
}

/** The Prometheus implementation of the metrics port (names and labels: docs/metrics.md). */
export function createPrometheusMetrics(): PrometheusMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  // prom-client names these gauges `_total`, which the naming conventions (and promtool) reserve for counters.
  for (const name of ['handles', 'requests', 'resources']) {
    registry.removeSingleMetric(`nodejs_active_${name}_total`);
  }
  // (`nodejs_active_handles`, `nodejs_active_requests` and `nodejs_active_resources` stay, by type.)

  const deferred = deferredCounters();
  const requests = new Counter({
    name: 'updraft_requests_total',
    help: 'Requests answered, by transport, protocol family and status class',
    labelNames: ['transport', 'family', 'code_class'],
    registers,
    collect: deferred.flush,
  });
  const served = new Counter({
    name: 'updraft_served_bytes_total',
    help: 'Image bytes sent to devices, by protocol family and product',
    labelNames: ['family', 'product'],
    registers,
    collect: deferred.flush,
  });
  const checkIns = new Counter({
    name: 'updraft_check_ins_total',
    help: 'Device update checks, by device protocol and product',
    labelNames: ['protocol', 'product'],
    registers,
  });
  const downloads = new Counter({
    name: 'updraft_downloads_total',
    help: 'Device downloads by protocol family, product and outcome (started, completed, failed, aborted)',
    labelNames: ['family', 'product', 'outcome'],
    registers,
  });
  const devices = new Gauge({
    name: 'updraft_devices',
    help: 'Known devices by product and the version they last reported running',
    labelNames: ['product', 'version'],
    registers,
  });
  const notify = new Counter({
    name: 'updraft_notify_results_total',
    help: 'Devices told to update (RIOT notify), by result',
    labelNames: ['result'],
    registers,
  });
  const cacheHits = deferred.wrap(
    new Counter({
      name: 'updraft_blob_cache_hits_total',
      help: 'Image reads answered from the in-memory cache',
      registers,
      collect: deferred.flush,
    }),
  );
  const cacheMisses = deferred.wrap(
    new Counter({
      name: 'updraft_blob_cache_misses_total',
      help: 'Image reads that went to the blob store',
      registers,
      collect: deferred.flush,
    }),
  );
  let queueDepth: () => number = () => 0;
  new Gauge({
    name: 'updraft_write_behind_queue_depth',
    help: 'Device check-ins and events waiting to be written',
    registers,
    collect() {
      this.set(queueDepth());
    },
  });
  const flushSeconds = new Histogram({
    name: 'updraft_write_behind_flush_duration_seconds',
    help: 'Time one write-behind flush of device records took',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });

  const writeBehindDropped = new Counter({
    name: 'updraft_write_behind_dropped_total',
    help: 'Device check-ins and events dropped, oldest first, because the write-behind queue was full',
    registers,
  });

  let deploymentsNow: () => Promise<ActiveDeployment[]> = async () => [];
  let pendingRead: Promise<ActiveDeployment[]> | undefined;
  // Both gauges are filled from one read per scrape.
  const readDeployments = () => (pendingRead ??= deploymentsNow().finally(() => (pendingRead = undefined)));
  new Gauge({
    name: 'updraft_deployment_devices',
    help: 'Devices of each active deployment by state (pending, offered, downloading, ..., succeeded, failed)',
    labelNames: ['deployment', 'product', 'version', 'state'],
    registers,
    async collect() {
      const list = await readDeployments();
      this.reset();
      for (const d of list) {
        const totals: Record<string, number> = {};
        for (const w of d.waves)
          for (const [state, n] of Object.entries(w.counts)) totals[state] = (totals[state] ?? 0) + n;
        for (const [state, n] of Object.entries(totals)) {
          this.labels({ deployment: d.id, product: d.product, version: d.version, state }).set(n);
        }
      }
    },
  });
  new Gauge({
    name: 'updraft_deployment_wave_devices',
    help: 'Devices of each wave of an active deployment by state',
    labelNames: ['deployment', 'wave', 'state'],
    registers,
    async collect() {
      const list = await readDeployments();
      this.reset();
      for (const d of list) {
        d.waves.forEach((w, i) => {
          for (const [state, n] of Object.entries(w.counts)) {
            this.labels({ deployment: d.id, wave: String(i + 1), state }).set(n);
          }
        });
      }
    },
  });
  new Gauge({
    name: 'updraft_deployments',
    help: 'Active deployments by state (scheduled, running, soaking, paused)',
    labelNames: ['state'],
    registers,
    async collect() {
      const list = await readDeployments();
      this.reset();
      for (const state of ['scheduled', 'running', 'soaking', 'paused']) {
        this.labels({ state }).set(list.filter((d) => d.state === state).length);
      }
    },
  });

  const requestChild = bound2((transport, family) =>
    CLASSES.map((code_class) => deferred.wrap(requests.labels({ transport, family, code_class }))),
  );
  const servedChild = bound2((family, product) => deferred.wrap(served.labels({ family, product })));
  const checkInChild = bound2((protocol, product) => checkIns.labels({ protocol, product }));
  const downloadChild = bound2((family, product) => ({
    started: downloads.labels({ family, product, outcome: 'started' }),
    completed: downloads.labels({ family, product, outcome: 'completed' }),
    failed: downloads.labels({ family, product, outcome: 'failed' }),
    aborted: downloads.labels({ family, product, outcome: 'aborted' }),
  }));
  const notifyChildren = {
    ok: notify.labels({ result: 'ok' }),
    error: notify.labels({ result: 'error' }),
    timeout: notify.labels({ result: 'timeout' }),
  };

  // Devices per product and version, kept from the registry's own writes (never a scan per scrape).
  const fleet = new Map<string, Map<string, number>>();
  function adjust(running: RunningVersion, by: number): void {
    const product = running.product ?? 'unknown';
    let versions = fleet.get(product);
    if (!versions) fleet.set(product, (versions = new Map()));
    let version = running.version ?? 'unknown';
    if (!versions.has(version) && versions.size >= MAX_VERSIONS_PER_PRODUCT) version = 'other';
    const next = (versions.get(version) ?? 0) + by;
    if (next > 0) {
      versions.set(version, next);
      devices.labels({ product, version }).set(next);
    } else {
      // Versions nobody runs any more leave the output instead of staying at 0 forever.
      versions.delete(version);
      devices.remove({ product, version });
    }
  }

  return {
    registry,
    request(transport: Transport, family: string, status: number) {
      const index = status === 0 ? 0 : Math.min(5, Math.max(1, Math.floor(status / 100)));
      requestChild(transport, family)[index]?.inc();
    },
    checkIn: (protocol, product) => checkInChild(protocol, product).inc(),
    download: (family, product, stage: DownloadStage) => downloadChild(family, product)[stage].inc(),
    bytesServed: (family, product, bytes) => servedChild(family, product).inc(bytes),
    notify: (result) => notifyChildren[result].inc(),
    blobCache: (hit) => (hit ? cacheHits.inc() : cacheMisses.inc()),
    flushed: (seconds) => flushSeconds.observe(seconds),
    writeBehindDropped: (count) => {
      if (count > 0) writeBehindDropped.inc(count);
    },
    deviceMoved(from, to) {
      if (from) adjust(from, -1);
      if (to) adjust(to, 1);
    },
    observeQueue(depth) {
      queueDepth = depth;
    },
    observeDeployments(active) {
      deploymentsNow = active;
    },
    initDevices(counts) {
      fleet.clear();
      devices.reset();
      for (const row of counts) adjust(row, row.count);
    },
    text: () => registry.metrics(),
  };
}
