import { DomainError } from '../errors.js';

/**
 * How a product's releases reach devices that no deployment targets: `immediate` (the default, the seeds'
 * behaviour: the newest published release, to everyone) or `deployments` (nothing unless a deployment offers
 * it). Stored in the product's settings as `rolloutMode`.
 */
export type RolloutMode = 'immediate' | 'deployments';
export const ROLLOUT_MODES: readonly RolloutMode[] = ['immediate', 'deployments'];

export function rolloutModeOf(product: { settings: Record<string, unknown> } | undefined): RolloutMode {
  return product?.settings.rolloutMode === 'deployments' ? 'deployments' : 'immediate';
}

export function assertRolloutMode(value: unknown): RolloutMode {
  if (value !== 'immediate' && value !== 'deployments') {
    throw new DomainError('INVALID_INPUT', 'rolloutMode is immediate or deployments');
  }
  return value;
}
