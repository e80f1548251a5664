import type { Services } from '../../../../core/services.js';
import type { Artifact, Product, Release } from '../../../../core/catalog/types.js';
import type { DdiDevice } from './known-devices.js';
import type { UpdateDecision } from '../../../../core/updates/decide-update.js';
import { actionIdOf } from './ids.js';
import type { ActionRef } from './device-state.js';
import { ddiSettings, isHandling, type Handling } from '../../../../core/catalog/ddi-settings.js';
import type { DeploymentLookup } from './deployment-lookup.js';
import { inWindow } from '../../../../core/deployments/index.js';

/** The one action a DDI device has open now (hawkBit offers one at a time; multi-assignments are not supported). */
export interface ActiveAction {
  id: number;
  release: Release;
  artifacts: Artifact[];
  deploymentId?: string;
  download: Handling;
  update: Handling;
  /** Only when a deployment has a maintenance window. */
  maintenanceWindow?: 'available' | 'unavailable';
}

export interface Resolution {
  decision: UpdateDecision;
  action?: ActiveAction;
  /** An action the device fetched that is no longer offered: the poll links `cancelAction` first. */
  cancel?: ActionRef;
  /** A hint from the decision (`not-now`): poll again sooner than the product's sleep. */
  retryAfterSeconds?: number;
}

export interface DeviceContext {
  product: Product;
  deviceId: string;
  device: DdiDevice | undefined;
  address?: string;
  userAgent?: string;
}

/** The artifacts one chunk lists: `settings.ddi.artifacts` when set, else every artifact of the release. */
export function chunkArtifacts(product: Product, release: Release): Artifact[] {
  const names = ddiSettings(product).artifacts;
  return names.length === 0 ? release.artifacts : release.artifacts.filter((a) => names.includes(a.name));
}

// Per list of published releases: the release service hands out the same cached array until the list changes.
const namesByPublished = new WeakMap<readonly Release[], string[]>();

/**
 * Artifact names for the update decision: the configured ones, else every name the product's published releases
 * use (the chunk lists all of them; the decision needs one to compare digests and sizes with).
 */
async function artifactNames(services: Services, product: Product): Promise<string[]> {
  const configured = ddiSettings(product).artifacts;
  if (configured.length > 0) return configured;
  const published = await services.releases.listPublished(product.name);
  let names = namesByPublished.get(published);
  if (!names) {
    const set = new Set<string>();
    for (const r of published) for (const a of r.artifacts) set.add(a.name);
    names = [...set];
    namesByPublished.set(published, names);
  }
  return names;
}

/**
 * Runs the one update decision for a DDI device and turns it into hawkBit terms: an action id stable per
 * (device, deployment or release), never one the device already closed; a cancel for an action the device
 * fetched that is no longer offered (release revoked, another release now newest, deployment cancelled).
 */
export async function resolveAction(
  services: Services,
  deployments: DeploymentLookup,
  ctx: DeviceContext,
): Promise<Resolution> {
  const { product, deviceId, device } = ctx;
  const decision = await services.updates.check({
    product: product.name,
    deviceId,
    protocol: 'ddi',
    address: ctx.address,
    userAgent: ctx.userAgent,
    // DDI polls carry no version: the registry's, learnt from the last `closed/success`, is the device's.
    report: { version: device?.version ?? undefined },
    artifactNames: await artifactNames(services, product),
  });
  const open = device?.action;
  const closed = device?.closed;
  let action: ActiveAction | undefined;
  if (decision.kind === 'update') {
    const offer = decision.offer;
    const id = actionIdOf(deviceId, { ...offer, releaseId: decision.release.id });
    if (id !== closed) {
      action = {
        id,
        release: decision.release,
        artifacts: chunkArtifacts(product, decision.release),
        ...(offer ? { deploymentId: offer.deploymentId } : {}),
        ...(await handlingOf(product, deployments, offer?.deploymentId)),
      };
    }
  }
  // An action the device holds and the decision no longer offers (release revoked, newer release, deployment
  // cancelled or the device timed out in it) is cancelled before anything else is offered (hawkBit does the same).
  const cancel = open && open.id !== closed && open.id !== action?.id ? open : undefined;
  return {
    decision,
    action: cancel ? undefined : action,
    cancel,
    ...(decision.kind === 'none' && decision.retryAfterSeconds !== undefined
      ? { retryAfterSeconds: decision.retryAfterSeconds }
      : {}),
  };
}

/**
 * `deployment.download` / `update` from the deployment's options (`ddi.download`, `ddi.update`), else from the
 * product's `settings.ddi`; `maintenanceWindow` from the deployment's window (absent without one).
 */
export async function handlingOf(
  product: Product,
  deployments: DeploymentLookup,
  deploymentId: string | undefined,
  now = new Date(),
): Promise<Pick<ActiveAction, 'download' | 'update' | 'maintenanceWindow'>> {
  const settings = ddiSettings(product);
  const deployment = deploymentId ? await deployments.get(deploymentId) : undefined;
  const download = deployment?.options['ddi.download'];
  const update = deployment?.options['ddi.update'];
  return {
    download: isHandling(download) ? download : settings.download,
    update: isHandling(update) ? update : settings.update,
    ...(deployment?.window
      ? { maintenanceWindow: inWindow(deployment, now) ? 'available' : 'unavailable' }
      : {}),
  };
}
