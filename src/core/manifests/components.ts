import { DomainError } from '../errors.js';
import { decodeWrapped, expectArray, expectBytes, expectInt, expectMap } from './cbor.js';
import { parseSuitDigest, type SuitDigest } from './digest.js';
import type { ParsedEnvelope } from './envelope.js';
import {
  COMMON_COMPONENTS,
  COMMON_SEQUENCE,
  MANIFEST_COMMON,
  PARAM_CLASS_ID,
  PARAM_IMAGE_DIGEST,
  PARAM_IMAGE_SIZE,
  PARAM_URI,
  PARAM_VENDOR_ID,
  type SuitSchema,
} from './schema.js';

/** One image a device may be told to install: a component, narrowed by slot/offset when the manifest branches. */
export interface ManifestComponent {
  /** Component index in the manifest's component list. */
  index: number;
  /** Component identifier: its bstr parts in hex, joined by "/". */
  id: string;
  /** `index`, or `index@offset` when try-each alternatives share a component (RIOT's two slots). */
  key: string;
  offset: number | null;
  size: number | null;
  digest: SuitDigest | null;
  uri: string | null;
  vendorId: Buffer | null;
  classId: Buffer | null;
}

type Params = Map<number, unknown>;

interface Path {
  current: number[];
  params: Params[];
  /** Slot or offset this path's device must have, fixed by the first condition-component-offset/slot. */
  offsets: Map<number, unknown>;
}

const CONDITION_OFFSET = 5;

function clonePath(p: Path): Path {
  return { current: [...p.current], params: p.params.map((m) => new Map(m)), offsets: new Map(p.offsets) };
}

function sameValue(a: unknown, b: unknown): boolean {
  return Buffer.isBuffer(a) && Buffer.isBuffer(b) ? a.equals(b) : a === b;
}

function sequenceItems(raw: unknown, what: string): unknown[] {
  const items = expectArray(decodeWrapped(raw, what), what);
  if (items.length % 2 !== 0) throw new DomainError('MANIFEST_INVALID', `${what}: odd number of items`);
  return items;
}

/**
 * Walks a command sequence the way a device would, but for every device at once: a try-each branch that passes
 * only because it fixed the slot/offset (condition-component-offset, RIOT `handlers_command_seq.c`;
 * condition-component-slot in draft-37) stands for a different device and is kept next to the others; a branch
 * that passes unconditionally ends the try-each, as on the device.
 */
function run(schema: SuitSchema, items: unknown[], paths: Path[], count: number, what: string): Path[] {
  let live = paths;
  for (let i = 0; i < items.length; i += 2) {
    const command = expectInt(items[i], `${what} command`);
    const arg = items[i + 1];
    const next: Path[] = [];
    for (const path of live) {
      if (command === schema.setComponentIndex) {
        path.current =
          arg === true
            ? [...Array(count).keys()]
            : Array.isArray(arg)
              ? arg.map((a) => expectInt(a, what))
              : [expectInt(arg, what)];
        if (path.current.some((c) => c < 0 || c >= count)) {
          throw new DomainError('MANIFEST_INVALID', `${what}: component index out of range`);
        }
        next.push(path);
      } else if (schema.parameterDirectives.includes(command)) {
        for (const [k, v] of expectMap(arg, `${what} parameters`)) {
          for (const c of path.current) path.params[c]?.set(expectInt(k, `${what} parameter`), v);
        }
        next.push(path);
      } else if (command === CONDITION_OFFSET) {
        let pass = true;
        for (const c of path.current) {
          const want = path.params[c]?.get(schema.offsetParameter);
          if (want === undefined) continue;
          if (!path.offsets.has(c)) path.offsets.set(c, want);
          else if (!sameValue(path.offsets.get(c), want)) pass = false;
        }
        if (pass) next.push(path);
      } else if (command === schema.tryEach) {
        for (const [b, branch] of expectArray(arg, `${what} try-each`).entries()) {
          const before = path.offsets.size;
          const passed = run(
            schema,
            sequenceItems(branch, `${what} try-each[${b}]`),
            [clonePath(path)],
            count,
            what,
          );
          next.push(...passed);
          if (passed.some((p) => p.offsets.size === before)) break;
        }
      } else if (command === schema.runSequence) {
        next.push(...run(schema, sequenceItems(arg, `${what} run-sequence`), [path], count, what));
      } else {
        next.push(path);
      }
    }
    live = next;
  }
  return live;
}

function optionalInt(v: unknown): number | null {
  return typeof v === 'number' ? v : null;
}

/** The manifest's images with the parameters that describe them, after the common and per-step sequences. */
export function extractComponents(parsed: ParsedEnvelope): ManifestComponent[] {
  const { schema, manifest } = parsed;
  const common = expectMap(decodeWrapped(manifest.get(MANIFEST_COMMON), 'common'), 'common');
  const ids = expectArray(common.get(COMMON_COMPONENTS), 'components').map((id) =>
    expectArray(id, 'component id')
      .map((part) => expectBytes(part, 'component id').toString('hex'))
      .join('/'),
  );
  const sequences: Array<[string, unknown]> = [['common', common.get(COMMON_SEQUENCE)]];
  for (const [key, name] of schema.manifestSequences) {
    const member = manifest.get(key);
    // A severed member is a SUIT_Digest in the manifest and the sequence itself in the envelope.
    const body = Array.isArray(member) ? parsed.envelope.get(key) : member;
    sequences.push([name, body]);
  }
  let paths: Path[] = [{ current: [0], params: ids.map(() => new Map()), offsets: new Map() }];
  for (const [name, body] of sequences) {
    if (body === undefined) continue;
    for (const p of paths) p.current = [0];
    paths = run(schema, sequenceItems(body, name), paths, ids.length, name);
  }
  const seen = new Set<string>();
  const out: ManifestComponent[] = [];
  for (const path of paths) {
    for (const [index, params] of path.params.entries()) {
      if (params.size === 0) continue;
      const offset = optionalInt(path.offsets.get(index) ?? params.get(schema.offsetParameter));
      const digestRaw = params.get(PARAM_IMAGE_DIGEST);
      const component: ManifestComponent = {
        index,
        id: ids[index] ?? '',
        key: String(index),
        offset,
        size: optionalInt(params.get(PARAM_IMAGE_SIZE)),
        digest:
          digestRaw === undefined
            ? null
            : parseSuitDigest(decodeWrapped(digestRaw, 'image-digest'), 'image-digest'),
        uri: typeof params.get(PARAM_URI) === 'string' ? (params.get(PARAM_URI) as string) : null,
        vendorId: Buffer.isBuffer(params.get(PARAM_VENDOR_ID))
          ? (params.get(PARAM_VENDOR_ID) as Buffer)
          : null,
        classId: Buffer.isBuffer(params.get(PARAM_CLASS_ID)) ? (params.get(PARAM_CLASS_ID) as Buffer) : null,
      };
      const signature = JSON.stringify([
        index,
        offset,
        component.digest?.bytes.toString('hex'),
        component.uri,
      ]);
      if (seen.has(signature)) continue;
      seen.add(signature);
      out.push(component);
    }
  }
  const perIndex = new Map<number, number>();
  for (const c of out) perIndex.set(c.index, (perIndex.get(c.index) ?? 0) + 1);
  for (const c of out)
    if ((perIndex.get(c.index) ?? 0) > 1 && c.offset !== null) c.key = `${c.index}@${c.offset}`;
  return out.sort((a, b) => a.index - b.index || (a.offset ?? 0) - (b.offset ?? 0));
}
