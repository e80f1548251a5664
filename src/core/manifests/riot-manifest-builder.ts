import { createHash, type KeyObject } from 'node:crypto';
import { DomainError } from '../errors.js';
import { canonicalMap, encodeCbor } from './cbor.js';
import { detectFormat } from './envelope.js';
import { riotEnvelopeForManifest, parseRiotEnvelope, signRiotEnvelope } from './suit-riot09.js';
import { riotClassId, riotVendorId } from './uuid.js';

/** One riotboot slot image (`SUIT_MANIFEST_SLOTFILES = slot0.bin:$(SLOT0_OFFSET) slot1.bin:$(SLOT1_OFFSET)`). */
export interface RiotSlotImage {
  /** Flash offset of the slot; the device installs the alternative whose offset is its inactive slot. */
  offset: number;
  /** Where the device fetches the image: `coap://`, `coaps://` or `file://` (RIOT `worker.c`). */
  uri: string;
  /** The image itself, or its SHA-256 and size when only the stored digest is at hand. */
  image?: Uint8Array;
  sha256?: Buffer;
  size?: number;
}

export interface RiotManifestInput {
  /** Must exceed the device's stored sequence number; RIOT's build uses the epoch (`SEQNR=APP_VER`). */
  sequenceNumber: number;
  /** RIOT `BOARD`, hashed into the class id. */
  board: string;
  /** Defaults to `riot-os.org`, as RIOT's `SUIT_VENDOR`. */
  vendorDomain?: string;
  slots: readonly RiotSlotImage[];
}

/** RIOT's manifest buffer (`SUIT_MANIFEST_BUFSIZE`, device-protocols.md §4.2). */
export const RIOT_MANIFEST_MAX_BYTES = 640;

/** draft-09 numbers, as RIOT's suit-tool writes them (`suit_tool/manifest.py`). */
const CMD = {
  vendorId: 1,
  classId: 2,
  imageMatch: 3,
  componentOffset: 5,
  tryEach: 15,
  setParameters: 19,
  overrideParameters: 20,
  fetch: 21,
} as const;
const PARAM = { vendorId: 1, classId: 2, digest: 3, offset: 5, size: 14, uri: 21 } as const;
/** Default reporting policies of suit-tool's `mkPolicy` for each command. */
const POLICY = { vendorId: 0xf, classId: 0xf, imageMatch: 0xf, componentOffset: 0x5, fetch: 0x2 } as const;
const SHA256_09 = 2;

interface Choice {
  params: Map<string, [number, unknown]>;
}

type ParamName = 'digest' | 'size' | 'vendorId' | 'classId' | 'offset' | 'uri';
type CondName = 'componentOffset' | 'vendorId' | 'classId';
/** The parameter a condition reads, which compile.py moves in front of it inside a try-each branch. */
const CONDITION_PARAM: Record<CondName, ParamName> = {
  componentOffset: 'offset',
  vendorId: 'vendorId',
  classId: 'classId',
};

function allEqual(values: unknown[]): boolean {
  const enc = values.map((v) => encodeCbor(v));
  return enc.every((e) => e.equals(enc[0] as Buffer));
}

/**
 * suit-tool's `make_sequence` (dist/tools/suit/suit-manifest-generator/suit_tool/compile.py): parameters equal
 * across the choices are hoisted into one directive; those that differ go into a try-each with one bstr-wrapped
 * branch per choice (condition parameters first, then the condition, then the rest); conditions whose parameter
 * is equal everywhere follow at the end. Reproducing it keeps Updraft's manifests byte-identical to RIOT's.
 */
function makeSequence(
  choices: Choice[],
  paramOrder: ParamName[],
  conditions: CondName[],
  directive: number,
): unknown[] {
  const present = paramOrder.filter((p) => choices.some((c) => c.params.has(p)));
  const isEq = (p: ParamName): boolean => allEqual(choices.map((c) => c.params.get(p)?.[1] ?? null));
  const eqParams = present.filter(isEq);
  const neqParams = present.filter((p) => !isEq(p));
  const condPresent = conditions.filter((c) => choices.some((ch) => ch.params.has(CONDITION_PARAM[c])));
  const eqConds = condPresent.filter((c) => isEq(CONDITION_PARAM[c]));
  const neqConds = condPresent.filter((c) => !isEq(CONDITION_PARAM[c]));
  const pick = (c: Choice, names: ParamName[]): Array<[number, unknown]> =>
    names.flatMap((n) => {
      const entry = c.params.get(n);
      return entry ? [entry] : [];
    });

  const seq: unknown[] = [];
  const first = choices[0] as Choice;
  if (eqParams.length > 0) seq.push(directive, canonicalMap(pick(first, eqParams)));
  const branches: Buffer[] = [];
  for (const choice of choices) {
    const depParams = neqConds.map((c) => CONDITION_PARAM[c]).filter((p) => neqParams.includes(p));
    const rest = neqParams.filter((p) => !depParams.includes(p));
    const branch: unknown[] = [];
    if (depParams.length > 0) branch.push(directive, canonicalMap(pick(choice, depParams)));
    for (const c of neqConds) branch.push(CMD[c], POLICY[c]);
    if (rest.length > 0) branch.push(directive, canonicalMap(pick(choice, rest)));
    if (branch.length > 0) branches.push(encodeCbor(branch));
  }
  if (branches.length > 0) seq.push(CMD.tryEach, branches);
  for (const c of eqConds) seq.push(CMD[c], POLICY[c]);
  return seq;
}

function slotDigest(slot: RiotSlotImage, i: number): { sha256: Buffer; size: number } {
  if (slot.image)
    return { sha256: createHash('sha256').update(slot.image).digest(), size: slot.image.length };
  if (slot.sha256?.length === 32 && slot.size !== undefined) return { sha256: slot.sha256, size: slot.size };
  throw new DomainError('INVALID_INPUT', `slot ${i}: give the image, or its sha256 (32 bytes) and size`);
}

/** The manifest (the content of envelope key 3) RIOT's `gen_manifest.py` + `suit-tool create` would write. */
export function buildRiotManifest(input: RiotManifestInput): Buffer {
  if (input.slots.length === 0)
    throw new DomainError('INVALID_INPUT', 'a RIOT manifest needs at least one slot');
  if (!Number.isSafeInteger(input.sequenceNumber) || input.sequenceNumber < 0) {
    throw new DomainError('INVALID_INPUT', 'sequence number must be a non-negative integer');
  }
  const vendorId = riotVendorId(input.vendorDomain ?? 'riot-os.org');
  const classId = riotClassId(input.board, vendorId);
  const choices: Choice[] = input.slots.map((slot, i) => {
    const { sha256, size } = slotDigest(slot, i);
    return {
      params: new Map<string, [number, unknown]>([
        ['digest', [PARAM.digest, encodeCbor([SHA256_09, sha256])]],
        ['size', [PARAM.size, size]],
        ['vendorId', [PARAM.vendorId, vendorId]],
        ['classId', [PARAM.classId, classId]],
        ['offset', [PARAM.offset, slot.offset]],
        ['uri', [PARAM.uri, slot.uri]],
      ]),
    };
  });
  const common = canonicalMap([
    [2, [[Buffer.from([0])]]],
    [
      4,
      encodeCbor(
        makeSequence(
          choices,
          ['digest', 'size', 'vendorId', 'classId', 'offset'],
          ['componentOffset', 'vendorId', 'classId'],
          CMD.overrideParameters,
        ),
      ),
    ],
  ]);
  const install = [
    ...makeSequence(choices, ['uri', 'offset'], ['componentOffset'], CMD.setParameters),
    CMD.fetch,
    POLICY.fetch,
    CMD.imageMatch,
    POLICY.imageMatch,
  ];
  const validate = [CMD.imageMatch, POLICY.imageMatch];
  return encodeCbor(
    canonicalMap([
      [1, 1],
      [2, input.sequenceNumber],
      [3, encodeCbor(common)],
      [9, encodeCbor(install)],
      [10, encodeCbor(validate)],
    ]),
  );
}

/** `riot.suit_unsigned.<seq>.bin`: the envelope with an empty authentication wrapper. */
export function buildUnsignedRiotEnvelope(input: RiotManifestInput): Buffer {
  return riotEnvelopeForManifest(buildRiotManifest(input));
}

/**
 * `riot.suit.<seq>.bin`: built and signed (Ed25519 for RIOT devices). Refuses a result larger than the device's
 * manifest buffer, which a device would reject only after fetching it.
 */
export function createSignedRiotManifest(input: RiotManifestInput, privateKey: KeyObject): Buffer {
  const unsigned = buildUnsignedRiotEnvelope(input);
  const signed = signRiotEnvelope(parseRiotEnvelope(detectFormat(unsigned).envelope), privateKey);
  if (signed.length > RIOT_MANIFEST_MAX_BYTES) {
    throw new DomainError(
      'MANIFEST_INVALID',
      `signed manifest is ${signed.length} bytes; RIOT devices accept at most ${RIOT_MANIFEST_MAX_BYTES}`,
    );
  }
  return signed;
}
