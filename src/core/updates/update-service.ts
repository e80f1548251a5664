import { DomainError } from '../errors.js';
import type { ReleaseService } from '../catalog/release-service.js';
import type { Release } from '../catalog/types.js';
import type { DeviceRegistry } from '../devices/device-registry.js';
import { noMetrics, type Metrics } from '../metrics/metrics.js';
import { decideUpdate, type DeviceReport, type UpdateDecision } from './decide-update.js';
import type { DeploymentService } from '../deployments/deployment-service.js';
import { decideForDeployments } from '../deployments/decide.js';
import { rolloutModeOf } from './rollout-mode.js';

export interface UpdateCheck {
  product: string;
  /** Omitted for anonymous devices (nothing is recorded for them). */
  deviceId?: string;
  protocol: string;
  address?: string;
  userAgent?: string;
  attributes?: Record<string, string>;
  report: DeviceReport;
  artifactNames: readonly string[];
}

export interface UpdateServiceDeps {
  releases: Pick<ReleaseService, 'listPublished' | 'find'>;
  products: { find(name: string): Promise<{ settings: Record<string, unknown> } | undefined> };
  registry: DeviceRegistry;
  metrics?: Metrics;
  /** Without it, every product behaves as in `immediate` mode. */
  deployments?: DeploymentService;
}

/** A protocol's explicit status report (DDI feedback, SWUpdate's progress). */
export interface OutcomeReport {
  deviceId: string;
  product: string;
  version: string;
  outcome: 'downloading' | 'downloaded' | 'succeeded' | 'failed' | 'rejected' | 'cancel-acknowledged';
  detail?: string;
}

/**
 * The use case behind every device protocol: decide, then record what the device said and what it was
 * offered. Adapters translate the wire into an UpdateCheck and the decision back into the wire.
 */
export function createUpdateService({
  releases,
  products,
  registry,
  deployments,
  metrics = noMetrics,
}: UpdateServiceDeps) {
  async function pinnedRelease(product: string, deviceId: string | undefined): Promise<Release | undefined> {
    if (!deviceId) return undefined;
    const pin = await registry.pinOf(deviceId);
    if (!pin || pin.product !== product) return undefined;
    const release = await releases.find(product, pin.version);
    return release && release.state !== 'revoked' ? release : undefined;
  }

  return {
    async check(query: UpdateCheck): Promise<UpdateDecision> {
      const published = await releases.listPublished(query.product);
      // The product list is cached (no query on this path).
      const product = await products.find(query.product);
      if (published.length === 0 && !product) {
        throw new DomainError('PRODUCT_NOT_FOUND', `product "${query.product}" does not exist`);
      }
      metrics.checkIn(query.protocol, query.product);
      const pinned = await pinnedRelease(query.product, query.deviceId);
      const immediate = () =>
        decideUpdate({ published, artifactNames: query.artifactNames, report: query.report, pinned });
      let decision: UpdateDecision;
      if (pinned || !deployments || !query.deviceId) {
        // Operator pins win over deployments; anonymous devices cannot be targeted.
        decision =
          !pinned && deployments && rolloutModeOf(product) === 'deployments'
            ? { kind: 'none', reason: 'not-targeted' }
            : immediate();
      } else {
        const fromDeployment = await decideForDeployments(deployments.internal, {
          product: query.product,
          deviceId: query.deviceId,
          protocol: query.protocol,
          report: query.report,
          attributes: query.attributes,
          artifactNames: query.artifactNames,
          published,
        });
        decision =
          fromDeployment ??
          (rolloutModeOf(product) === 'deployments' ? { kind: 'none', reason: 'not-targeted' } : immediate());
      }
      if (query.deviceId) {
        query.attributes ??= {};
        query.attributes['last-decision'] = decision.kind === 'update' ? 'update' : decision.reason;
        registry.checkIn({
          deviceId: query.deviceId,
          product: query.product,
          version: query.report.version,
          address: query.address,
          protocol: query.protocol,
          userAgent: query.userAgent,
          attributes: query.attributes,
          offered: decision.kind === 'update' ? decision.release.version : undefined,
        });
      }
      return decision;
    },

    /** Download bookkeeping: `started` when the first byte is sent, `completed` when the last one is. */
    recordDownload(
      deviceId: string | undefined,
      release: Release,
      stage: 'started' | 'completed' | 'failed',
      detail?: string,
    ): void {
      if (!deviceId) return;
      registry.record(deviceId, `download-${stage}`, release.version, detail ?? null);
      deployments?.onDownload(deviceId, release, stage, detail);
    },

    /**
     * For protocols that report status explicitly (DDI feedback, SWUpdate's log): records a device event and
     * moves the device's state in the deployment that offered `version`.
     */
    async reportOutcome(r: OutcomeReport): Promise<void> {
      registry.record(
        r.deviceId,
        'deployment',
        r.version,
        `reported ${r.outcome}${r.detail ? `: ${r.detail.slice(0, 500)}` : ''}`,
      );
      await deployments?.reportOutcome(r);
    },
  };
}

export type UpdateService = ReturnType<typeof createUpdateService>;
