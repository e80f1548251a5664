import { Readable } from 'node:stream';
import type { KeyObject } from 'node:crypto';
import { DomainError } from '../errors.js';
import type { Artifact, Product } from '../catalog/types.js';
import type { ReleaseProcessor } from '../catalog/release-service.js';
import type { ReleaseUpload } from '../catalog/release-upload.js';
import type { SettingsRepository } from '../settings.js';
import type { KeyStore } from '../keys/index.js';
import {
  assertEnvelopeValid,
  createSignedRiotManifest,
  formatUuid,
  RIOT_MANIFEST_MAX_BYTES,
  riotClassId,
  verifyEnvelope,
  type RiotSlotImage,
} from '../manifests/index.js';
import { readArtifactBytes, type ArtifactReader } from './artifact-bytes.js';
import { isManifestName, manifestArtifactName, slotOf } from './artifact-names.js';
import { checkManifestUris, slotOfUri, slotUri } from './suit-uris.js';
import { riotbootHeaderProblem, RIOTBOOT_HDR_LEN } from '../manifests/riotboot.js';
import { suitSettings, type SuitSettings } from './product-settings.js';

export interface SuitProcessorDeps {
  keys: Pick<KeyStore, 'privateKey' | 'publicKey'>;
  settings: Pick<SettingsRepository, 'increment'>;
  blobs: ArtifactReader;
  /** `coap://[2001:db8::1]`: where devices fetch the slot images; empty = Updraft cannot build manifests. */
  coapPublicUrl: string;
  /**
   * The hosts this server is known by (`[::1]`, `192.0.2.7`, its host name), for uploaded manifests when there is
   * no public URL to compare their URIs with. Left out: only `localhost` and the loopback addresses.
   */
  ownHosts?: () => readonly string[];
  /** Epoch milliseconds; the sequence number starts at the epoch in seconds, as RIOT's `SUIT_SEQNR = APP_VER`. */
  now?: () => number;
}

export const MANIFEST_CONTENT_TYPE = 'application/octet-stream';
const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];
export const suitSequenceKey = (product: string) => `suit-seq:${product}`;

/** Renames `slot0.bin` / `slot0.<x>.bin` to `slot0`: the name the CoAP adapter serves `slot0.<seq>.bin` from. */
async function normaliseSlotNames(upload: ReleaseUpload, blobs: ArtifactReader): Promise<void> {
  for (const artifact of [...upload.artifacts]) {
    const slot = slotOf(artifact.name);
    if (!slot || slot === artifact.name) continue;
    if (upload.artifacts.some((a) => a.name === slot)) {
      throw new DomainError('DUPLICATE_ARTIFACT', `both "${artifact.name}" and "${slot}" were uploaded`);
    }
    upload.remove(artifact.name);
    await upload.add({
      name: slot,
      source: await blobs.createReadStream(artifact.sha256),
      contentType: artifact.contentType,
      expectedSha256: artifact.sha256,
    });
  }
}

async function replaceBytes(
  upload: ReleaseUpload,
  old: Artifact,
  name: string,
  bytes: Buffer,
): Promise<void> {
  upload.remove(old.name);
  await upload.add({ name, source: Readable.from(bytes), contentType: MANIFEST_CONTENT_TYPE });
}

function requirePublicUrl(publicUrl: string, product: Product): string {
  if (!publicUrl) {
    throw new DomainError(
      'INVALID_INPUT',
      `cannot build a SUIT manifest for ${product.name}: the server has no CoAP public URL; start it with ` +
        '--coap-public-url coap://[<address>] (env UPDRAFT_COAP_PUBLIC_URL), or upload a signed manifest',
    );
  }
  return publicUrl;
}

/** Slot images must start with a riotboot header, or the device refuses them after a full download. */
async function checkRiotbootHeaders(upload: ReleaseUpload, blobs: ArtifactReader): Promise<void> {
  for (const artifact of upload.artifacts) {
    if (artifact.name !== 'slot0' && artifact.name !== 'slot1') continue;
    const head = await blobs.read(artifact.sha256, 0, RIOTBOOT_HDR_LEN);
    const problem = riotbootHeaderProblem(head);
    if (problem) {
      throw new DomainError(
        'IMAGE_INVALID',
        `${artifact.name}: ${problem}; RIOT devices would refuse it after downloading it (build it with ` +
          'riotboot, or set settings.suit.checkRiotbootHeader to false)',
      );
    }
  }
}

function boardOf(product: Product): string {
  if (!product.hardwareClass) {
    throw new DomainError(
      'INVALID_INPUT',
      `product ${product.name} needs hardwareClass set to the RIOT BOARD (e.g. samr21-xpro) for SUIT`,
    );
  }
  return product.hardwareClass;
}

/**
 * SUIT for RIOT products (`deviceFamily: 'riot'`) whose upload carries slot images or a manifest. Without a
 * manifest, Updraft builds one (RIOT's suit-tool layout, riot-manifest-builder.ts), signs it with the product's
 * key and adds it as `riot.suit.<seq>.bin`. With one, it is verified instead: a trusted signature, every
 * component's digest and size against the uploaded slot, the board's class id, a sequence number above the
 * product's last. Any failure throws, and the release service discards the whole upload.
 */
export function createSuitProcessor(deps: SuitProcessorDeps): ReleaseProcessor {
  const now = deps.now ?? Date.now;

  async function generate(upload: ReleaseUpload, product: Product, suit: SuitSettings): Promise<void> {
    const board = boardOf(product);
    const publicUrl = requirePublicUrl(deps.coapPublicUrl, product);
    if (!suit.key) {
      throw new DomainError('KEY_NOT_FOUND', `product ${product.name} has no settings.suit.key to sign with`);
    }
    const slots: Array<{ artifact: Artifact; slot: 'slot0' | 'slot1'; offset: number }> = [];
    for (const slot of ['slot0', 'slot1'] as const) {
      const artifact = upload.artifacts.find((a) => a.name === slot);
      if (!artifact) continue;
      const offset = slot === 'slot0' ? suit.slot0Offset : suit.slot1Offset;
      if (offset === null) {
        throw new DomainError(
          'INVALID_INPUT',
          `product ${product.name} needs settings.suit.slot1Offset (RIOT's SLOT1_OFFSET for ${board})`,
        );
      }
      slots.push({ artifact, slot, offset });
    }
    const key = await deps.keys.privateKey(suit.key);
    // Taken before signing: a failure later burns a number, which is harmless as they only need to grow.
    const seq = await deps.settings.increment(suitSequenceKey(product.name), Math.floor(now() / 1000));
    const images: RiotSlotImage[] = slots.map(({ artifact, slot, offset }) => ({
      offset,
      uri: slotUri(publicUrl, product.name, board, slot, seq, artifact.sha256),
      sha256: Buffer.from(artifact.sha256, 'hex'),
      size: artifact.size,
    }));
    const manifest = createSignedRiotManifest(
      { sequenceNumber: seq, board, vendorDomain: suit.vendor, slots: images },
      key,
    );
    await upload.add({
      name: manifestArtifactName(seq),
      source: Readable.from(manifest),
      contentType: MANIFEST_CONTENT_TYPE,
    });
  }

  async function trustedKeys(product: Product, suit: SuitSettings): Promise<KeyObject[]> {
    const names = [...new Set([...(suit.key ? [suit.key] : []), ...suit.trustedKeys])];
    if (names.length === 0) {
      throw new DomainError(
        'SIGNATURE_INVALID',
        `product ${product.name} trusts no key: set settings.suit.key or settings.suit.trustedKeys`,
      );
    }
    return Promise.all(names.map((name) => deps.keys.publicKey(name)));
  }

  async function verifyUploaded(
    upload: ReleaseUpload,
    product: Product,
    suit: SuitSettings,
    manifest: Artifact,
  ): Promise<void> {
    if (manifest.size > RIOT_MANIFEST_MAX_BYTES) {
      throw new DomainError(
        'MANIFEST_INVALID',
        `manifest is ${manifest.size} bytes; RIOT devices accept at most ${RIOT_MANIFEST_MAX_BYTES}`,
      );
    }
    const bytes = await readArtifactBytes(deps.blobs, manifest);
    const keys = await trustedKeys(product, suit);
    // A first pass finds the components, whose URIs say which uploaded slot each one is.
    const first = verifyEnvelope(bytes, { trustedKeys: keys });
    if (first.format !== 'riot-09') {
      const reason = first.errors[0]?.message ?? `a ${first.format} envelope`;
      throw new DomainError('MANIFEST_INVALID', `not a RIOT (draft-09) SUIT manifest: ${reason}`);
    }
    const images = new Map<string, Uint8Array>();
    const slots = upload.artifacts.filter((a) => slotOf(a.name) === a.name);
    const matched = new Set<string>();
    for (const component of first.components) {
      const file = component.uri?.slice(component.uri.lastIndexOf('/') + 1) ?? '';
      const artifact = component.uri ? slotOfUri(component.uri, slots) : undefined;
      if (artifact) matched.add(artifact.name);
      if (artifact && !images.has(file)) images.set(file, await readArtifactBytes(deps.blobs, artifact));
    }
    for (const artifact of slots) {
      if (!matched.has(artifact.name)) {
        throw new DomainError(
          'DIGEST_MISMATCH',
          `uploaded ${artifact.name} matches no component of the manifest`,
        );
      }
    }
    const result = assertEnvelopeValid(bytes, { trustedKeys: keys, images });
    if (product.hardwareClass) checkClass(result.components, product.hardwareClass);
    const seq = result.sequenceNumber ?? -1;
    checkManifestUris(
      result.components.map((c) => c.uri),
      {
        publicUrl: deps.coapPublicUrl,
        product: product.name,
        board: product.hardwareClass ?? '',
        seq,
        slots,
        allowedHosts: suit.allowedUriHosts,
        ownHosts: deps.coapPublicUrl ? [] : (deps.ownHosts?.() ?? LOOPBACK_HOSTS),
      },
    );
    // increment returns max(last + 1, seq): equal to seq exactly when seq is above the last, atomically.
    const stored = await deps.settings.increment(suitSequenceKey(product.name), seq);
    if (stored !== seq) {
      throw new DomainError(
        'MANIFEST_INVALID',
        `sequence number ${seq} is not above the last one of ${product.name}; devices would refuse it`,
      );
    }
    const name = manifestArtifactName(seq);
    if (manifest.name !== name) await replaceBytes(upload, manifest, name, bytes);
  }

  return async (upload, product) => {
    if (product.deviceFamily !== 'riot') return;
    const manifests = upload.artifacts.filter((a) => isManifestName(a.name));
    const hasSlots = upload.artifacts.some((a) => slotOf(a.name) !== null);
    if (manifests.length === 0 && !hasSlots) return;
    if (manifests.length > 1) {
      throw new DomainError('INVALID_INPUT', `upload one SUIT manifest, not ${manifests.length}`);
    }
    const suit = suitSettings(product);
    await normaliseSlotNames(upload, deps.blobs);
    if (suit.checkRiotbootHeader) await checkRiotbootHeaders(upload, deps.blobs);
    const [manifest] = manifests;
    if (manifest) await verifyUploaded(upload, product, suit, manifest);
    else await generate(upload, product, suit);
  };
}

/** condition-class-identifier: a manifest for another board would be refused by every device of the product. */
function checkClass(
  components: ReadonlyArray<{ vendorId: string | null; classId: string | null; key: string }>,
  board: string,
): void {
  for (const c of components) {
    if (!c.vendorId || !c.classId) continue;
    const expected = formatUuid(riotClassId(board, Buffer.from(c.vendorId.replace(/-/g, ''), 'hex')));
    if (c.classId !== expected) {
      throw new DomainError(
        'MANIFEST_INVALID',
        `component ${c.key} is for class ${c.classId}, not board ${board} (${expected})`,
      );
    }
  }
}
