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
  if (c.metricsPort < 0 || c.metricsPort > 65535) throw new Error('metricsPort must be between 0 and 65535');
  if (c.databaseUrl === `sqlite:${resolve(c.dataDir, 'updraft.db')}` && sources.databaseUrl === 'default') {
    sources.databaseUrl = 'default (from dataDir)';
  }
  if (sources.keysDir === 'default') sources.keysDir = 'default (from dataDir)';
  return { config: c, sources };
}
