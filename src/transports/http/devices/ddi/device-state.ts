/**
 * What the DDI adapter remembers per device lives in the device's attributes, so every replica sees it and it
 * survives restarts without a table of its own (docs/protocols/ddi.md):
 * - `ddi-action`: the action the device fetched and has not closed (`<id> <version> [<deployment>]`);
 * - `ddi-closed`: the id of the last action the device closed (success, failure, skip, cancel): never re-offered;
 * - `ddi-installed`: the last action that ended in success (`installedBase`);
 * - `ddi-config-at`: when the device last sent `configData` (until then the poll links `configData`).
 * An empty value means "none" (a check-in merges attributes; it cannot delete one).
 */
export const ATTR = {
  action: 'ddi-action',
  closed: 'ddi-closed',
  installed: 'ddi-installed',
  configAt: 'ddi-config-at',
} as const;

/** Attributes Updraft writes itself: configData `replace` keeps them, and devices may not set them. */
export const isOwnAttribute = (key: string): boolean => key === 'last-decision' || key.startsWith('ddi-');

export interface ActionRef {
  id: number;
  version: string;
  deploymentId?: string;
}

export function parseRef(value: string | undefined): ActionRef | undefined {
  const m = value ? /^(\d+) (\S+)(?: (\S+))?$/.exec(value) : null;
  if (!m) return undefined;
  return { id: Number(m[1]), version: m[2] as string, ...(m[3] ? { deploymentId: m[3] } : {}) };
}

export const formatRef = (r: ActionRef): string =>
  `${r.id} ${r.version}${r.deploymentId ? ` ${r.deploymentId}` : ''}`;
