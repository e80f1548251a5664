export const DEPLOYMENT_STATES = [
  'scheduled',
  'running',
  'soaking',
  'paused',
  'completed',
  'cancelled',
  'rolled-back',
] as const;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];

export const DEVICE_STATES = [
  'pending',
  'offered',
  'downloading',
  'downloaded',
  'succeeded',
  'failed',
  'timed-out',
  'skipped',
] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

export const FINAL_DEVICE_STATES: readonly DeviceState[] = ['succeeded', 'failed', 'timed-out', 'skipped'];
/** Deployments that still offer the new release (or may again, after resume). */
export const ACTIVE_STATES: readonly DeploymentState[] = ['scheduled', 'running', 'soaking', 'paused'];

export type Counts = Record<DeviceState, number>;

/** Who a deployment is for: the union of groups and devices (all of the product when both are empty), narrowed by the filter. */
export interface Target {
  groups: string[];
  devices: string[];
  filter: string | null;
}

export interface Window {
  /** `HH:MM`, local time in `timeZone`. An end before the start spans midnight. */
  start: string;
  end: string;
  /** IANA name (`Europe/Berlin`). */
  timeZone: string;
}

export interface Wave {
  /** As the operator wrote it: `10%` (of the devices the target matches) or `50` (devices, cumulative). */
  spec: string;
  /** Devices whose position (stable hash in [0, 1)) is below this belong to this wave or an earlier one. */
  upTo: number;
}

/** A deployment's strategy: who, in which waves, how fast and when to stop; parsed, validated, fixed at creation. */
export interface Strategy {
  target: Target;
  waves: Wave[];
  soakSeconds: number;
  /** A wave passes when at least this share (0-100) of its devices succeeded. */
  successPercent: number;
  /** `5%` or `5`: failed + timed out devices beyond this halt the deployment. */
  maxFailures: string;
  /** The threshold is judged only once this many devices reached a final state. */
  minFinal: number;
  timeoutSeconds: number;
  ratePerMinute?: number;
  maxDownloads?: number;
  window?: Window;
  startAt?: string;
  rollback: boolean;
  options: Record<string, string>;
}

export interface Deployment extends Omit<Strategy, 'waves'> {
  id: string;
  product: string;
  version: string;
  state: DeploymentState;
  /** The open wave (0-based); waves up to it are open. */
  currentWave: number;
  waves: (Wave & { counts: Counts; total: number })[];
  haltReason?: string;
  waveOpenedAt?: string;
  soakUntil?: string;
  counts: Counts;
  total: number;
  createdAt: string;
  updatedAt: string;
}

export interface DeviceInDeployment {
  deploymentId: string;
  deviceId: string;
  state: DeviceState;
  wave: number;
  previousVersion?: string;
  updatedAt: string;
  reason?: string;
}

/** What an operator asks for (API body, CLI flags). Strings are parsed and validated by the service. */
export interface DeploymentSpec {
  product: string;
  version: string;
  groups?: string[];
  devices?: string[];
  filter?: string;
  /** Cumulative: `['1%', '10%', '100%']` or `['10', '100', '1000']`. Default `['100%']`. */
  waves?: string[];
  soakSeconds?: number;
  successPercent?: number;
  maxFailures?: string | number;
  minFinal?: number;
  timeoutSeconds?: number;
  ratePerMinute?: number;
  maxDownloads?: number;
  window?: Window;
  startAt?: string;
  rollback?: boolean;
  options?: Record<string, string>;
}

export interface DryRun {
  matched: number;
  waves: { spec: string; size: number }[];
}

export interface DeploymentEvent {
  id: number;
  deploymentId: string;
  deviceId: string | null;
  at: string;
  kind: string;
  detail: string | null;
}

export const emptyCounts = (): Counts => Object.fromEntries(DEVICE_STATES.map((s) => [s, 0])) as Counts;
