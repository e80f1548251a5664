import { unauditedLog, type AuditLog } from '../audit/audit-log.js';
import type { AuditContext } from '../audit/types.js';
import { EventEmitter } from 'node:events';
import { DomainError } from '../errors.js';
import { assertValidName } from '../names.js';
import { isoNow, systemClock, type Clock } from '../clock.js';
import { normalizeMac } from '../devices/mac.js';
import { assertValidTag, parseFilter, type Filter } from './filter.js';
import type { Group, GroupRepository, NewGroup, TagRepository } from './types.js';
import { createSnapshot } from '../cache.js';

/** A group as membership checks need it: its filter parsed, its static members as a set. */
export type LoadedGroup = Group & { parsed?: Filter; members: Set<string> };

/** A device without tags (shared, never changed). */
export const NO_TAGS: ReadonlySet<string> = new Set();

export interface GroupServiceDeps {
  groups: GroupRepository;
  tags: TagRepository;
  clock?: Clock;
  /** Refuses to delete a group an active deployment still targets. */
  inUse?: (group: string) => Promise<boolean>;
  /** Group and tag changes with their audit record, one transaction. */
  audit?: Pick<AuditLog, 'withAudit'>;
}

/** A device id as operators type it: a MAC in any spelling becomes the registry's form. */
export const normalizeDeviceId = (raw: string): string => normalizeMac(raw) ?? raw.trim();

const MAX_STATIC = 100_000;

/**
 * Device tags and groups. Both are read on every check-in of a targeted product (membership), so both are
 * held in memory: loaded once, changed through this service, and reloaded by `invalidate()` (another replica's
 * change, via the bus).
 */
export function createGroupService({ groups, tags, clock = systemClock, ...deps }: GroupServiceDeps) {
  const audit = deps.audit ?? unauditedLog({ groups, tags });
  const events = new EventEmitter();
  // Held until a change drops them (here, or another replica's through the bus: `invalidate`); no TTL.
  const tagCache = createSnapshot({
    name: 'device-tags',
    load: () => tags.all().then((m) => new Map([...m].map(([id, list]) => [id, new Set(list)]))),
  });
  const groupCache = createSnapshot<Map<string, LoadedGroup>>({
    name: 'groups',
    load: () =>
      groups
        .list()
        .then(
          (list) =>
            new Map(
              list.map((g) => [
                g.name,
                { ...g, parsed: g.filter ? parseFilter(g.filter) : undefined, members: new Set(g.devices) },
              ]),
            ),
        ),
  });

  const changed = () => events.emit('changed');

  function cleanTags(list: unknown): string[] {
    if (!Array.isArray(list) || list.length > 64) {
      throw new DomainError('INVALID_INPUT', 'tags must be a list of at most 64 tags');
    }
    return [...new Set(list.map(assertValidTag))];
  }

  async function withTags(
    by: AuditContext,
    action: string,
    deviceId: string,
    list: string[],
    change: (tx: TagRepository, id: string) => Promise<void>,
  ): Promise<string[]> {
    const id = normalizeDeviceId(deviceId);
    await audit.withAudit(
      by,
      action,
      id,
      (tx) => change(tx.tags, id),
      () => ({ tags: list }),
    );
    tagCache.drop();
    changed();
    return tags.of(id);
  }

  return {
    events,

    /** Reloads tags and groups on next use (a change made by another replica). */
    invalidate(): void {
      tagCache.drop();
      groupCache.drop();
    },

    /** For the check-in path: the device's tags, from memory. */
    async tagsOf(deviceId: string): Promise<ReadonlySet<string>> {
      return (await tagCache.get()).get(deviceId) ?? NO_TAGS;
    },
    /** The check-in path's synchronous view: undefined until the tags and groups are loaded. */
    loaded(): { tags: Map<string, Set<string>>; groups: Map<string, LoadedGroup> } | undefined {
      const t = tagCache.peek();
      const g = groupCache.peek();
      return t && g ? { tags: t, groups: g } : undefined;
    },
    /** Synchronous view once loaded (undefined before the first load). */
    async tagMap(): Promise<Map<string, Set<string>>> {
      return tagCache.get();
    },
    async groupMap() {
      return groupCache.get();
    },

    setTags: (by: AuditContext, deviceId: string, list: unknown) => {
      const clean = cleanTags(list);
      return withTags(by, 'device.tags.set', deviceId, clean, (tx, id) => tx.set(id, clean));
    },
    addTags: (by: AuditContext, deviceId: string, list: unknown) => {
      const clean = cleanTags(list);
      return withTags(by, 'device.tags.add', deviceId, clean, (tx, id) => tx.add(id, clean));
    },
    removeTags: (by: AuditContext, deviceId: string, list: unknown) => {
      const clean = cleanTags(list);
      return withTags(by, 'device.tags.remove', deviceId, clean, (tx, id) => tx.remove(id, clean));
    },
    listTags: (deviceId: string) => tags.of(normalizeDeviceId(deviceId)),

    async list(): Promise<Group[]> {
      return groups.list();
    },

    async get(name: string): Promise<Group> {
      const group = await groups.get(name);
      if (!group) throw new DomainError('GROUP_NOT_FOUND', `no group "${name}"`);
      return group;
    },

    async create(by: AuditContext, input: NewGroup): Promise<Group> {
      const body = (input ?? {}) as Partial<NewGroup>;
      const name = assertValidName(body.name, 'group');
      const hasFilter = body.filter !== undefined && body.filter !== null && body.filter !== '';
      const hasDevices = Array.isArray(body.devices);
      if (hasFilter === hasDevices) {
        throw new DomainError(
          'INVALID_INPUT',
          'a group has either a filter (dynamic) or a device list (static)',
        );
      }
      let group: Group;
      if (hasFilter) {
        const filter = parseFilter(body.filter);
        group = { name, kind: 'dynamic', filter: filter.text, devices: [], createdAt: isoNow(clock) };
      } else {
        const list = body.devices as unknown[];
        if (
          list.length > MAX_STATIC ||
          list.some((d) => typeof d !== 'string' || d.trim() === '' || d.length > 256)
        ) {
          throw new DomainError('INVALID_INPUT', `devices must be up to ${MAX_STATIC} non-empty ids`);
        }
        const devices = [...new Set((list as string[]).map(normalizeDeviceId))];
        group = { name, kind: 'static', filter: null, devices, createdAt: isoNow(clock) };
      }
      await audit.withAudit(
        by,
        'group.create',
        name,
        async (tx) => {
          if (!(await tx.groups.create(group))) {
            throw new DomainError('GROUP_EXISTS', `group "${name}" already exists`);
          }
        },
        () => ({ kind: group.kind, filter: group.filter, devices: group.devices.length }),
      );
      groupCache.drop();
      changed();
      return group;
    },

    async delete(by: AuditContext, name: string): Promise<void> {
      if (await deps.inUse?.(name)) {
        throw new DomainError('INVALID_STATE', `group "${name}" is targeted by an active deployment`);
      }
      await audit.withAudit(by, 'group.delete', name, async (tx) => {
        if (!(await tx.groups.delete(name))) throw new DomainError('GROUP_NOT_FOUND', `no group "${name}"`);
      });
      groupCache.drop();
      changed();
    },
  };
}

export type GroupService = ReturnType<typeof createGroupService>;
