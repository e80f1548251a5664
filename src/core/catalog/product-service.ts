import { DomainError } from '../errors.js';
import { validateDdiSettings } from './ddi-settings.js';
import { assertValidName } from '../names.js';
import { isoNow, systemClock, type Clock } from '../clock.js';
import { createSnapshot } from '../cache.js';
import type { EventBus } from '../events/event-bus.js';
import type { ProductRepository, ReleaseRepository } from './ports.js';
import type { NewProduct, Product, ProductPatch } from './types.js';
import { unauditedLog, type AuditLog } from '../audit/audit-log.js';
import type { AuditContext } from '../audit/types.js';
import { assertRolloutMode } from '../updates/rollout-mode.js';

export interface ProductServiceDeps {
  products: ProductRepository;
  releases: Pick<ReleaseRepository, 'list'>;
  clock?: Clock;
  /** How long device paths may use a cached product list (a safety net under the bus), ms. */
  cacheTtlMs?: number;
  /** Carries the invalidation of a product change to every replica. */
  bus?: EventBus;
  /** Each change and its audit record in one transaction; without it nothing is recorded. */
  audit?: Pick<AuditLog, 'withAudit'>;
}

function text(value: unknown, field: string, max: number): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string' || value.length > max) {
    throw new DomainError('INVALID_INPUT', `${field} must be a string of at most ${max} characters`);
  }
  return value;
}

function settings(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new DomainError('INVALID_INPUT', 'settings must be an object');
  }
  const checked = value as Record<string, unknown>;
  // hawkBit DDI / SWUpdate settings are checked here, so a mistake is the operator's 400, not the devices'.
  if (checked.ddi !== undefined) validateDdiSettings(checked.ddi);
  return checked;
}

export function createProductService({
  products,
  releases,
  clock = systemClock,
  ...deps
}: ProductServiceDeps) {
  // Every device request names its product; products change rarely. A snapshot serves the device paths,
  // dropped on every replica when a product changes (through the bus), refreshed after `cacheTtlMs` regardless.
  const snapshot = createSnapshot<Map<string, Product>>({
    name: 'products',
    ttlMs: deps.cacheTtlMs ?? 2000,
    clock,
    bus: deps.bus,
    load: async () => new Map((await products.list()).map((p) => [p.name, p])),
  });
  const cached = snapshot.get;
  const invalidate = snapshot.invalidate;
  const audit = deps.audit ?? unauditedLog({ products, releases });

  async function get(name: string): Promise<Product> {
    const product = await products.get(name);
    if (!product) throw new DomainError('PRODUCT_NOT_FOUND', `product "${name}" does not exist`);
    return product;
  }

  return {
    get,
    /** For device paths: from the snapshot, which every replica drops on a product change. */
    async find(name: string): Promise<Product | undefined> {
      return (await cached()).get(name) ?? products.get(name);
    },
    /** For device paths (products by family); the management API reads `get` and the repository. */
    async list(): Promise<Product[]> {
      return [...(await cached()).values()];
    },

    async create(by: AuditContext, input: NewProduct): Promise<Product> {
      const product: Product = {
        name: assertValidName(input.name, 'product'),
        description: text(input.description, 'description', 2000),
        deviceFamily: text(input.deviceFamily, 'deviceFamily', 64),
        hardwareClass: text(input.hardwareClass, 'hardwareClass', 64) || null,
        settings: settings(input.settings),
        createdAt: isoNow(clock),
      };
      if (await products.get(product.name)) {
        throw new DomainError('PRODUCT_EXISTS', `product "${product.name}" already exists`);
      }
      await audit.withAudit(
        by,
        'product.create',
        product.name,
        (tx) => tx.products.create(product),
        () => ({ deviceFamily: product.deviceFamily, hardwareClass: product.hardwareClass }),
      );
      invalidate();
      return product;
    },

    /** Returns the product, creating it with defaults first if needed (drop folders, seed-compatible publish). */
    async ensure(by: AuditContext, name: string, defaults: Omit<NewProduct, 'name'> = {}): Promise<Product> {
      const existing = await products.get(assertValidName(name, 'product'));
      if (existing) return existing;
      try {
        return await this.create(by, { name, ...defaults });
      } catch (err) {
        // Another replica or request created it in between.
        if (err instanceof DomainError && err.code === 'PRODUCT_EXISTS') return get(name);
        throw err;
      }
    },

    async update(by: AuditContext, name: string, patch: ProductPatch): Promise<Product> {
      const clean: ProductPatch = {};
      if (patch.description !== undefined) clean.description = text(patch.description, 'description', 2000);
      if (patch.deviceFamily !== undefined) clean.deviceFamily = text(patch.deviceFamily, 'deviceFamily', 64);
      if (patch.hardwareClass !== undefined)
        clean.hardwareClass = text(patch.hardwareClass, 'hardwareClass', 64) || null;
      if (patch.settings !== undefined) clean.settings = settings(patch.settings);
      const updated = await audit.withAudit(
        by,
        'product.update',
        name,
        async (tx) => {
          const result = await tx.products.update(name, clean);
          // Nothing to record for a product that does not exist: rolled back with the NOT_FOUND below.
          if (!result) throw new DomainError('PRODUCT_NOT_FOUND', `product "${name}" does not exist`);
          return result;
        },
        () => ({ changed: Object.keys(clean) }),
      );
      invalidate();
      return updated;
    },

    /** The product's rollout mode (`immediate` | `deployments`), kept in its settings as `rolloutMode`. */
    async setRolloutMode(by: AuditContext, name: string, mode: unknown): Promise<Product> {
      const rolloutMode = assertRolloutMode(mode);
      // A settings change like any other (docs/audit.md); read and written in the one transaction, so a
      // concurrent settings change is not overwritten with the settings read before it.
      const updated = await audit.withAudit(
        by,
        'product.update',
        name,
        async (tx) => {
          const product = await tx.products.get(name);
          const result =
            product && (await tx.products.update(name, { settings: { ...product.settings, rolloutMode } }));
          if (!result) throw new DomainError('PRODUCT_NOT_FOUND', `product "${name}" does not exist`);
          return result;
        },
        () => ({ changed: ['settings'], rolloutMode }),
      );
      invalidate();
      return updated;
    },

    async delete(by: AuditContext, name: string): Promise<void> {
      await get(name);
      await audit.withAudit(by, 'product.delete', name, async (tx) => {
        // Checked inside the transaction: a release uploaded meanwhile keeps the product.
        if ((await tx.releases.list(name)).length > 0) {
          throw new DomainError('PRODUCT_NOT_EMPTY', `product "${name}" still has releases`);
        }
        await tx.products.delete(name);
      });
      invalidate();
    },
  };
}

export type ProductService = ReturnType<typeof createProductService>;
