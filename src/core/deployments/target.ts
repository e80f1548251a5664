import { matchesFilter, parseFilter, type DeviceFacts } from '../groups/filter.js';
import type { LoadedGroup } from '../groups/group-service.js';
import type { Target } from './types.js';

export type GroupView = LoadedGroup;

export type TargetPredicate = ((d: DeviceFacts, groups: Map<string, GroupView>, now: Date) => boolean) & {
  /** Every device of the product, no filter: true without looking at the device (the check-in path skips its facts). */
  readonly everyone: boolean;
};

/**
 * A deployment's target as a predicate: the union of its groups and devices (the whole product when both are
 * empty), narrowed by its filter. Groups are looked up at each evaluation, so a device that starts matching a
 * dynamic group later (a new device, a changed version) joins.
 */
export function compileTarget(target: Target): TargetPredicate {
  const devices = new Set(target.devices);
  const filter = target.filter ? parseFilter(target.filter) : undefined;
  const everyone = target.groups.length === 0 && devices.size === 0;
  const matches = (d: DeviceFacts, groups: Map<string, GroupView>, now: Date): boolean => {
    if (!everyone && !devices.has(d.id)) {
      const inGroup = target.groups.some((name) => {
        const g = groups.get(name);
        if (!g) return false;
        return g.kind === 'static'
          ? g.members.has(d.id)
          : g.parsed !== undefined && matchesFilter(g.parsed, d, now);
      });
      if (!inGroup) return false;
    }
    return filter === undefined || matchesFilter(filter, d, now);
  };
  return Object.assign(matches, { everyone: everyone && filter === undefined });
}
