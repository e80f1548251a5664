import type { Product, ProductPatch, Release, ReleaseState } from './types.js';

/** Metadata ports: implemented in storage/sql for SQLite and PostgreSQL, tested by one contract suite. */
export interface ProductRepository {
  create(product: Product): Promise<void>;
  get(name: string): Promise<Product | undefined>;
  list(): Promise<Product[]>;
  update(name: string, patch: ProductPatch): Promise<Product | undefined>;
  delete(name: string): Promise<boolean>;
}

export interface ReleaseRepository {
  /** Inserts the release and its artifacts in one transaction; VERSION_EXISTS when (product, version) is taken. */
  create(release: Release): Promise<void>;
  get(product: string, version: string): Promise<Release | undefined>;
  getById(id: string): Promise<Release | undefined>;
  list(product: string, filter?: { states?: ReleaseState[] }): Promise<Release[]>;
  listAll(filter?: { states?: ReleaseState[]; limit?: number }): Promise<Release[]>;
  setState(id: string, state: ReleaseState, at: string): Promise<void>;
  delete(id: string): Promise<boolean>;
  /** True while any release still references the blob: a blob is deleted only when this is false. */
  isBlobReferenced(sha256: string): Promise<boolean>;
}
