import { LRUCache } from 'lru-cache';
import { entryBound } from '../../../../core/cache.js';
import type { Services } from '../../../../core/services.js';
import type { Deployment } from '../../../../core/deployments/index.js';

/**
 * Deployments by id for the DDI answers (options, window), read at most every two seconds per deployment and
 * dropped at once when this process changes one (`deployments.events`); another replica's change is seen within
 * the TTL, as with the catalog's caches.
 */
export function createDeploymentLookup(services: Pick<Services, 'deployments'>, ttlMs = 2000) {
  const cache = new LRUCache<string, { deployment: Deployment | null }>({ ...entryBound(1000), ttl: ttlMs });
  services.deployments.events.on('changed', (id: string) => cache.delete(id));
  return {
    async get(id: string): Promise<Deployment | undefined> {
      const hit = cache.get(id);
      if (hit) return hit.deployment ?? undefined;
      const deployment = await services.deployments.get(id);
      cache.set(id, { deployment: deployment ?? null });
      return deployment;
    },
  };
}

export type DeploymentLookup = ReturnType<typeof createDeploymentLookup>;
