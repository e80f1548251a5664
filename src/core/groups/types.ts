/** A named set of devices: an explicit list (static) or a filter evaluated whenever it is used (dynamic). */
export interface Group {
  name: string;
  kind: 'static' | 'dynamic';
  /** The filter expression of a dynamic group (docs/deployments.md). */
  filter: string | null;
  /** The members of a static group. */
  devices: string[];
  createdAt: string;
}

export interface NewGroup {
  name: string;
  filter?: string;
  devices?: string[];
}

export interface GroupRepository {
  list(): Promise<Group[]>;
  get(name: string): Promise<Group | undefined>;
  /** False when a group of that name exists. */
  create(group: Group): Promise<boolean>;
  delete(name: string): Promise<boolean>;
}

export interface TagRepository {
  /** Every device's tags: few per device, so the check-in path holds them all in memory. */
  all(): Promise<Map<string, string[]>>;
  of(deviceId: string): Promise<string[]>;
  add(deviceId: string, tags: string[]): Promise<void>;
  remove(deviceId: string, tags: string[]): Promise<void>;
  /** Replaces the device's tags. */
  set(deviceId: string, tags: string[]): Promise<void>;
}
