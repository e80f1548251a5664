import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { isValidName } from '../core/names.js';
import { readConfigFile } from './config-file.js';

/** A signing key kept outside the keys folder: a PEM file, or PEM content from an environment variable. */
export type SigningKeySource = { file: string } | { env: string; pem: string };

/**
 * The one configuration schema: every option with its type, default (units in the name or comment) and
 * environment variable. Order: defaults ← environment (`UPDRAFT_*`) ← command-line flags. Nothing else in the
 * code reads `process.env`.
 */
export interface Config {
  /** HTTP device + management port; 0 picks a free one. */
  httpPort: number;
  /** Host to bind; `::` is every IPv6 and IPv4 interface. */
  host: string;
  /** CoAP UDP port; 0 picks a free one, -1 turns CoAP off. */
  coapPort: number;
  /** The data folder: SQLite database and blob store. */
  dataDir: string;
  /** Metadata database URL; default `sqlite:<dataDir>/updraft.db`. `postgres://...` for PostgreSQL. */
  databaseUrl: string;
  /** Drop folder to import and watch; empty = none. */
  firmwareDir: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Admin token from the environment; when empty one is generated on first start and printed once. */
  adminToken: string;
  /** Largest release upload, bytes. */
  maxUploadBytes: number;
  /** Graceful shutdown: how long in-flight downloads may take to finish, ms. */
  shutdownTimeoutMs: number;
  /** Write-behind interval for device check-ins, ms. */
  flushIntervalMs: number;
  /** How often the deployment scheduler opens waves and judges soak, success, failures and timeouts, ms. */
  deploymentTickMs: number;
  /** HTTPS: certificate and key files (PEM). When both are set the HTTP port serves TLS. */
  tlsCert: string;
  tlsKey: string;
  /** Plain HTTP beside HTTPS on this port; 0 = off. */
  plainHttpPort: number;
  /** The CoAP URL devices reach this server at (written into manifests and triggers). */
  coapPublicUrl: string;
  /** Signing keys folder (`<name>.pem`, private keys mode 0600); default `<dataDir>/keys`. */
  keysDir: string;
  /**
   * Signing keys kept elsewhere, by name: files from `UPDRAFT_SIGNING_KEY_FILES=name=/path.pem,other=/p2.pem`,
   * and PEM content from `UPDRAFT_KEY_<NAME>` (the key name is `<NAME>` in lower case). They win over a file of
   * the same name in `keysDir`.
   */
  signingKeys: Record<string, SigningKeySource>;
  /** Memory kept for hot images, bytes; 0 turns the cache off. */
  blobCacheBytes: number;
  /** Images larger than this are streamed from disk, never cached, bytes. */
  blobCacheMaxImageBytes: number;
  /**
   * nginx in front: device downloads are answered with `X-Accel-Redirect: <prefix>/<blob path>` and nginx sends
   * the file from an `internal` location over `<dataDir>/blobs/` (docs/deployment.md); empty = Node streams.
   */
  accelRedirectPrefix: string;
  /** HTTP worker processes sharing the port (docs/deployment.md); 0 or 1 = one process, `auto` = one per core. */
  workers: number;
  /** The RIOT seed's endpoints (`/publish`, `/notify`, `/remove`, `/coap/url`) require the admin token. */
  seedEndpointsAuth: boolean;
  /** Devices one notify request contacts at the same time. */
  notifyConcurrency: number;
  /** How long one device may take to answer a notify (slot query and trigger together), ms. */
  notifyTimeoutMs: number;
  /**
   * hawkBit DDI tenants (`/<tenant>/controller/v1/...`) and the products each may see, from
   * `UPDRAFT_DDI_TENANTS=default=*;acme=gateway,sensor`; `*` = every product. Default: `default` sees every product.
   */
  ddiTenants: Record<string, string[]>;
  /** Where blobs live: '' = `<dataDir>/blobs`, or `s3://<bucket>[/<prefix>]` (docs/storage.md). */
  blobStore: string;
  /** S3 endpoint URL for S3-compatible stores (RGW, MinIO); '' = AWS. */
  s3Endpoint: string;
  /** S3 region; '' = the AWS chain's (AWS_REGION, profile), else us-east-1. */
  s3Region: string;
  /** Path-style URLs (`<endpoint>/<bucket>/<key>`), which most S3-compatible servers need. */
  s3ForcePathStyle: boolean;
  /** Answer downloads of clients that follow redirects with a 302 to a presigned S3 URL. */
  s3Redirect: boolean;
  /** How long a presigned download URL is valid, s. */
  s3RedirectTtlS: number;
  /** Memory for the S3 store's chunk cache (CoAP blocks, small ranges), bytes. */
  s3CacheBytes: number;
  /** Blob garbage collection every this many ms; 0 turns the timer off. */
  blobGcIntervalMs: number;
  /** A blob no release or upload uses is deleted after being an orphan this long, ms. */
  blobGcGraceMs: number;
  /** Temporary upload files/objects and multipart uploads older than this are swept, ms. */
  blobIncompleteAfterMs: number;
  /**
   * Load balancers whose `X-Forwarded-For` gives the device's address (fastify `trustProxy`): addresses or CIDRs,
   * comma-separated, `loopback` or `true`; empty = none (docs/deployment.md).
   */
  trustProxy: string;
  /** PostgreSQL replicas: how often a replica tries to take over singleton work (drop folder, sweep), ms. */
  leaderPollMs: number;
  /** Devices one notify request may name. */
  notifyMaxDevices: number;
  /** Devices waiting to be notified over all requests together; more is refused (503). */
  notifyMaxQueued: number;
  /** Addresses and CIDR prefixes notify may contact (`fd00::/8,192.168.1.0/24`); empty = any. */
  notifyAllow: string[];
  /** CoAP ports notify may contact (`5683`); empty = any. */
  notifyPorts: number[];
  /**
   * CoAP datagrams accepted per second from one source address (burst: twice as many); more are dropped
   * unanswered (RFC 7252 §11.3). 0 = unlimited.
   */
  coapSourceRate: number;
  /** New CoAP device records (devices known only by their address) created per minute; 0 = none recorded. */
  coapNewDevicesPerMinute: number;
  /** A request body with no byte for this long is answered 408 and its partial upload removed, ms; 0 = never. */
  bodyIdleTimeoutMs: number;
  /** Bearer token a Prometheus scraper sends for `GET /metrics`; empty = only admin tokens (main port). */
  metricsToken: string;
  /** `GET /metrics` on its own port (not on the main one); 0 = served on the HTTP port. */
  metricsPort: number;
  /** Address of the metrics port; empty = `host`. */
  metricsHost: string;
  /** `pretty` (human-readable, pino-pretty), `json`, or `auto`: pretty on a terminal, JSON otherwise. */
  logFormat: 'auto' | 'json' | 'pretty';
}

type Spec = { env: string; parse: (v: string) => unknown };
const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, got "${v}"`);
  return n;
};
const str = (v: string) => v;
const bool = (name: string) => (v: string) => {
  if (/^(true|1|yes|on)$/i.test(v)) return true;
  if (/^(false|0|no|off)$/i.test(v)) return false;
  throw new Error(`${name} must be true or false, got "${v}"`);
};
const KEY_ENV_PREFIX = 'UPDRAFT_KEY_';
/** `a,b, c` → `['a','b','c']`. */
const list = (v: string): string[] =>
  v
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);

function keyName(name: string, from: string): string {
  if (!isValidName(name)) throw new Error(`${from}: "${name}" is not a valid key name`);
  return name;
}

/** `name=path,name=path` (a path may not contain a comma). */
function keyFiles(v: string): Record<string, SigningKeySource> {
  const out: Record<string, SigningKeySource> = {};
  for (const entry of v
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const eq = entry.indexOf('=');
    if (eq <= 0 || eq === entry.length - 1) {
      throw new Error(`signing key files: expected name=path, got "${entry}"`);
    }
    out[keyName(entry.slice(0, eq), 'signing key files')] = { file: resolve(entry.slice(eq + 1)) };
  }
  return out;
}
/** `tenant=product,product;tenant=*` (docs/protocols/ddi.md). */
function ddiTenants(v: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const entry of v
    .split(';')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const eq = entry.indexOf('=');
    const tenant = eq > 0 ? entry.slice(0, eq).trim() : '';
    const products = entry
      .slice(eq + 1)
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(tenant) || products.length === 0) {
      throw new Error(`ddi tenants: expected tenant=product,product (or tenant=*), got "${entry}"`);
    }
    for (const p of products) {
      if (p !== '*' && !isValidName(p)) throw new Error(`ddi tenants: "${p}" is not a product name`);
    }
    out[tenant] = products;
  }
  return out;
}
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const CONFIG_SPEC: Record<keyof Config, Spec> = {
  httpPort: { env: 'UPDRAFT_HTTP_PORT', parse: int('http port') },
  host: { env: 'UPDRAFT_HOST', parse: str },
  coapPort: { env: 'UPDRAFT_COAP_PORT', parse: int('coap port') },
  dataDir: { env: 'UPDRAFT_DATA', parse: str },
  databaseUrl: { env: 'UPDRAFT_DATABASE_URL', parse: str },
  firmwareDir: { env: 'UPDRAFT_FIRMWARE_DIR', parse: str },
  logLevel: {
    env: 'UPDRAFT_LOG_LEVEL',
    parse: (v) => {
      if (!LEVELS.includes(v)) throw new Error(`log level must be one of ${LEVELS.join(', ')}`);
      return v;
    },
  },
  adminToken: { env: 'UPDRAFT_ADMIN_TOKEN', parse: str },
  maxUploadBytes: { env: 'UPDRAFT_MAX_UPLOAD_BYTES', parse: int('max upload bytes') },
  shutdownTimeoutMs: { env: 'UPDRAFT_SHUTDOWN_TIMEOUT_MS', parse: int('shutdown timeout') },
  flushIntervalMs: { env: 'UPDRAFT_FLUSH_INTERVAL_MS', parse: int('flush interval') },
  deploymentTickMs: { env: 'UPDRAFT_DEPLOYMENT_TICK_MS', parse: int('deployment tick') },
  tlsCert: { env: 'UPDRAFT_TLS_CERT', parse: str },
  tlsKey: { env: 'UPDRAFT_TLS_KEY', parse: str },
  plainHttpPort: { env: 'UPDRAFT_PLAIN_HTTP_PORT', parse: int('plain http port') },
  coapPublicUrl: { env: 'UPDRAFT_COAP_PUBLIC_URL', parse: str },
  keysDir: { env: 'UPDRAFT_KEYS_DIR', parse: str },
  signingKeys: { env: 'UPDRAFT_SIGNING_KEY_FILES', parse: keyFiles },
  blobCacheBytes: { env: 'UPDRAFT_BLOB_CACHE_BYTES', parse: int('blob cache bytes') },
  blobCacheMaxImageBytes: {
    env: 'UPDRAFT_BLOB_CACHE_MAX_IMAGE_BYTES',
    parse: int('blob cache max image bytes'),
  },
  accelRedirectPrefix: {
    env: 'UPDRAFT_ACCEL_REDIRECT_PREFIX',
    parse: (v) => {
      if (v !== '' && !/^\/[\w./-]*$/.test(v))
        throw new Error(`accel redirect prefix must be a path, got "${v}"`);
      return v.replace(/\/+$/, '');
    },
  },
  workers: {
    env: 'UPDRAFT_WORKERS',
    parse: (v) => (v === 'auto' ? availableParallelism() : int('workers')(v)),
  },
  seedEndpointsAuth: { env: 'UPDRAFT_SEED_ENDPOINTS_AUTH', parse: bool('seed endpoints auth') },
  notifyConcurrency: { env: 'UPDRAFT_NOTIFY_CONCURRENCY', parse: int('notify concurrency') },
  notifyTimeoutMs: { env: 'UPDRAFT_NOTIFY_TIMEOUT_MS', parse: int('notify timeout') },
  ddiTenants: { env: 'UPDRAFT_DDI_TENANTS', parse: ddiTenants },
  blobStore: {
    env: 'UPDRAFT_BLOB_STORE',
    parse: (v) => {
      if (v !== '' && !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[\w!.*'()/-]*)?$/.test(v))
        throw new Error(`blob store must be empty (the data folder) or s3://<bucket>[/<prefix>], got "${v}"`);
      return v;
    },
  },
  s3Endpoint: { env: 'UPDRAFT_S3_ENDPOINT', parse: str },
  s3Region: { env: 'UPDRAFT_S3_REGION', parse: str },
  s3ForcePathStyle: { env: 'UPDRAFT_S3_FORCE_PATH_STYLE', parse: bool('s3 force path style') },
  s3Redirect: { env: 'UPDRAFT_S3_REDIRECT', parse: bool('s3 redirect') },
  s3RedirectTtlS: { env: 'UPDRAFT_S3_REDIRECT_TTL_S', parse: int('s3 redirect ttl') },
  s3CacheBytes: { env: 'UPDRAFT_S3_CACHE_BYTES', parse: int('s3 cache bytes') },
  blobGcIntervalMs: { env: 'UPDRAFT_BLOB_GC_INTERVAL_MS', parse: int('blob gc interval') },
  blobGcGraceMs: { env: 'UPDRAFT_BLOB_GC_GRACE_MS', parse: int('blob gc grace') },
  blobIncompleteAfterMs: {
    env: 'UPDRAFT_BLOB_INCOMPLETE_AFTER_MS',
    parse: int('blob incomplete after'),
  },
  trustProxy: {
    env: 'UPDRAFT_TRUST_PROXY',
    parse: (v) => {
      if (!/^[\w.:/, -]*$/.test(v)) throw new Error(`trust proxy must be addresses or CIDRs, got "${v}"`);
      return v
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean)
        .join(',');
    },
  },
  leaderPollMs: { env: 'UPDRAFT_LEADER_POLL_MS', parse: int('leader poll') },
  bodyIdleTimeoutMs: { env: 'UPDRAFT_BODY_IDLE_TIMEOUT_MS', parse: int('body idle timeout') },
  coapSourceRate: { env: 'UPDRAFT_COAP_SOURCE_RATE', parse: int('coap source rate') },
  coapNewDevicesPerMinute: {
    env: 'UPDRAFT_COAP_NEW_DEVICES_PER_MINUTE',
    parse: int('coap new devices per minute'),
  },
  notifyMaxDevices: { env: 'UPDRAFT_NOTIFY_MAX_DEVICES', parse: int('notify max devices') },
  notifyMaxQueued: { env: 'UPDRAFT_NOTIFY_MAX_QUEUED', parse: int('notify max queued') },
  notifyAllow: { env: 'UPDRAFT_NOTIFY_ALLOW', parse: list },
  notifyPorts: {
    env: 'UPDRAFT_NOTIFY_PORTS',
    parse: (v) => list(v).map((p) => int('notify ports')(p)),
  },
  metricsToken: { env: 'UPDRAFT_METRICS_TOKEN', parse: str },
  metricsPort: { env: 'UPDRAFT_METRICS_PORT', parse: int('metrics port') },
  metricsHost: { env: 'UPDRAFT_METRICS_HOST', parse: str },
  logFormat: {
    env: 'UPDRAFT_LOG_FORMAT',
    parse: (v) => {
      if (!['auto', 'json', 'pretty'].includes(v)) throw new Error('log format must be auto, json or pretty');
      return v;
    },
  },
};

export const DEFAULTS: Config = {
  httpPort: 8080,
  host: '::',
  coapPort: 5683,
  dataDir: './data',
  databaseUrl: '',
  firmwareDir: '',
  logLevel: 'info',
  adminToken: '',
  maxUploadBytes: 256 * 1024 * 1024,
  shutdownTimeoutMs: 10_000,
  flushIntervalMs: 1000,
  deploymentTickMs: 1000,
  tlsCert: '',
  tlsKey: '',
  plainHttpPort: 0,
  coapPublicUrl: '',
  keysDir: '',
  signingKeys: {},
  blobCacheBytes: 128 * 1024 * 1024,
  blobCacheMaxImageBytes: 32 * 1024 * 1024,
  accelRedirectPrefix: '',
  workers: 0,
  seedEndpointsAuth: true,
  notifyConcurrency: 16,
  notifyTimeoutMs: 20_000,
  ddiTenants: { default: ['*'] },
  blobStore: '',
  s3Endpoint: '',
  s3Region: '',
  s3ForcePathStyle: false,
  s3Redirect: false,
  s3RedirectTtlS: 300,
  s3CacheBytes: 64 * 1024 * 1024,
  blobGcIntervalMs: 10 * 60_000,
  blobGcGraceMs: 3600_000,
  blobIncompleteAfterMs: 6 * 3600_000,
  trustProxy: '',
  leaderPollMs: 1000,
  bodyIdleTimeoutMs: 30_000,
  coapSourceRate: 1000,
  coapNewDevicesPerMinute: 600,
  notifyMaxDevices: 100,
  notifyMaxQueued: 1000,
  notifyAllow: [],
  notifyPorts: [],
  metricsToken: '',
  metricsPort: 0,
  metricsHost: '',
  logFormat: 'auto',
};

/** Builds and validates the configuration once; throws with a readable message on bad input. */
export function loadConfig(
  overrides: Partial<Record<keyof Config, unknown>> = {},
  env: Record<string, string | undefined> = process.env,
  file?: string,
): Config {
  return resolveConfig(overrides, env, file).config;
}

/**
 * The configuration with where each value came from (`updraft config check`): defaults ← the YAML file
 * (`--config`, `UPDRAFT_CONFIG`) ← environment ← flags.
 */
export function resolveConfig(
  overrides: Partial<Record<keyof Config, unknown>> = {},
  env: Record<string, string | undefined> = process.env,
  file: string | undefined = env.UPDRAFT_CONFIG || undefined,
): { config: Config; sources: Record<keyof Config, string> } {
  const config: Record<string, unknown> = { ...DEFAULTS };
  const sources = Object.fromEntries(Object.keys(DEFAULTS).map((k) => [k, 'default'])) as Record<
    keyof Config,
    string
  >;
  const fromFile = file ? readConfigFile(file, Object.keys(CONFIG_SPEC) as (keyof Config)[]) : new Map();
  for (const [key, spec] of Object.entries(CONFIG_SPEC) as [keyof Config, Spec][]) {
    const inFile = fromFile.get(key);
    if (inFile) {
      try {
        config[key] = spec.parse(inFile.value);
      } catch (err) {
        throw new Error(`${file}:${inFile.line}: ${(err as Error).message}`);
      }
      sources[key] = `${file}:${inFile.line}`;
    }
    const fromEnv = env[spec.env];
    if (fromEnv !== undefined && fromEnv !== '') {
      config[key] = spec.parse(fromEnv);
      sources[key] = `env ${spec.env}`;
    }
    const flag = overrides[key];
    if (flag !== undefined) {
      config[key] = typeof flag === 'string' ? spec.parse(flag) : flag;
      sources[key] = 'flag';
    }
  }
  const c = config as unknown as Config;
  c.dataDir = resolve(c.dataDir);
  if (!c.databaseUrl) c.databaseUrl = `sqlite:${resolve(c.dataDir, 'updraft.db')}`;
  c.keysDir = resolve(c.keysDir || resolve(c.dataDir, 'keys'));
  c.signingKeys = { ...c.signingKeys };
  for (const [variable, pem] of Object.entries(env)) {
    if (!variable.startsWith(KEY_ENV_PREFIX) || !pem) continue;
    const name = keyName(variable.slice(KEY_ENV_PREFIX.length).toLowerCase(), variable);
    c.signingKeys[name] = { env: variable, pem };
  }
  for (const port of ['httpPort', 'coapPort', 'plainHttpPort'] as const) {
    if (c[port] < -1 || c[port] > 65535) throw new Error(`${port} must be between 0 and 65535`);
  }
  if (Boolean(c.tlsCert) !== Boolean(c.tlsKey)) throw new Error('--tls-cert and --tls-key go together');
  if (c.maxUploadBytes <= 0) throw new Error('max upload bytes must be positive');
  if (c.workers < 0 || c.workers > 256) throw new Error('workers must be between 0 and 256, or auto');
  if (c.notifyConcurrency < 1) throw new Error('notify concurrency must be at least 1');
  if (c.notifyTimeoutMs < 1) throw new Error('notify timeout must be positive');
  if (c.deploymentTickMs < 10) throw new Error('deployment tick must be at least 10 ms');
  if (c.s3Redirect && !c.blobStore) throw new Error('--s3-redirect needs an s3:// blob store');
  if (c.s3RedirectTtlS < 1 || c.s3RedirectTtlS > 604_800)
    throw new Error('s3 redirect ttl must be between 1 and 604800 seconds');
  if (c.blobGcIntervalMs < 0 || c.blobGcGraceMs < 0 || c.blobIncompleteAfterMs < 0)
    throw new Error('blob gc intervals must not be negative');
  if (c.leaderPollMs < 10) throw new Error('leader poll must be at least 10 ms');
  if (c.metricsPort < 0 || c.metricsPort > 65535) throw new Error('metricsPort must be between 0 and 65535');
  if (c.databaseUrl === `sqlite:${resolve(c.dataDir, 'updraft.db')}` && sources.databaseUrl === 'default') {
    sources.databaseUrl = 'default (from dataDir)';
  }
  if (sources.keysDir === 'default') sources.keysDir = 'default (from dataDir)';
  return { config: c, sources };
}
