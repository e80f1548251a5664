/**
 * The catalog over CoAP: every published artifact as a block-wise resource (RFC 7959), and each product's
 * newest release as observable resources (RFC 7641), listed in /.well-known/core (RFC 6690).
 *
 *   /fw/<product>/<version>/<artifact>        a published release's artifact (version or label)
 *   /fw/<product>/latest/<artifact>           the newest published release's artifact; observable
 *   /fw/<app>/<board>/riot.suit.latest.bin    RIOT products (deviceFamily riot, hardwareClass = BOARD): the
 *   /fw/<app>/<board>/riot.suit.<seq>.bin     newest manifest (observable), a manifest by sequence number,
 *   /fw/<app>/<board>/slotN.<seq>.bin         and the slot images that manifest names (docs/signing.md)
 *
 *   /fw/d/<digest>                            a RIOT product's published slot image by the first 16 hex
 *                                             digits of its SHA-256: the short URI generated manifests use
 *                                             when the long one would reach RIOT's 128-byte limit
 *
 * Both long shapes are `/fw/:product/:second/:file`; the product's family decides how `second` and `file` read.
 */
import { DomainError } from '../../../core/errors.js';
import type { Product, Release } from '../../../core/catalog/types.js';
import type { ReleaseEvent } from '../../../core/catalog/release-events.js';
import { isValidName } from '../../../core/names.js';
import type { Services } from '../../../core/services.js';
import { Code, type Peer } from '../message.js';
import { ContentFormat } from '../options.js';
import type { CoapHandler, CoapReply, CoapRequest, LinkAttributes } from '../resource.js';
import type { CoapServer } from '../server.js';
import type { CoapAdapter } from './adapter.js';
import { artifactBody, deviceIdOf } from './artifact-body.js';
import {
  isRiot,
  LATEST,
  resolveCatalogFile,
  resolveRiotFile,
  RIOT_LATEST_MANIFEST,
  riotFilesOf,
  riotManifestOf,
} from './catalog-resolve.js';
import { createCatalogView, type CatalogView, type ListedProduct } from './catalog-view.js';
import { coapErrorReply } from './error-codes.js';
import { listable, refusal } from './coap-access.js';

export const FIRMWARE_ROUTE = '/fw/:product/:second/:file';
export const DIGEST_ROUTE = '/fw/d/:digest';
const RT_FIRMWARE = 'firmware';
const RT_MANIFEST = 'suit-manifest';

const fwPath = (product: string, second: string, file: string): string => `/fw/${product}/${second}/${file}`;

/** The board segment of a RIOT product's paths; without a hardwareClass nothing of it is served. */
const boardOf = (product: Product): string | undefined =>
  product.hardwareClass !== null && isValidName(product.hardwareClass) ? product.hardwareClass : undefined;

function firmwareHandler(
  services: Services,
  view: CatalogView,
  deviceIds: (peer: Peer) => string | undefined,
): CoapHandler {
  const answer = (req: CoapRequest, product: Product, published: readonly Release[]): CoapReply => {
    const refused = refusal(product, req);
    if (refused) return refused;
    const { second = '', file = '' } = req.params;
    const found = isRiot(product)
      ? second === boardOf(product)
        ? resolveRiotFile(published, file)
        : undefined
      : resolveCatalogFile(published, second, file);
    if (!found) return { code: Code.NOT_FOUND };
    return {
      code: Code.CONTENT,
      body: artifactBody(services, found.release, found.artifact, {
        deviceId: deviceIds(req.peer),
        family: 'catalog-resources',
      }),
    };
  };
  const load = async (req: CoapRequest, name: string): Promise<CoapReply> => {
    try {
      const product = await view.product(name);
      if (!product) return { code: Code.NOT_FOUND };
      return answer(req, product, await services.releases.listPublished(product.name));
    } catch (err) {
      return coapErrorReply(err);
    }
  };
  return (req) => {
    const { product: name = '', second = '', file = '' } = req.params;
    // Segments arrive decoded and may hold `/` or `..`; they only ever select from the catalog, but anything
    // that is not a catalog name is refused before it is looked up.
    if (!isValidName(name) || !isValidName(second) || !isValidName(file)) {
      return coapErrorReply(new DomainError('INVALID_NAME'));
    }
    // The per-block path: product and published releases cached, answered without a promise (maybe-async.ts).
    const product = view.productCached(name);
    const published = product && services.releases.listPublishedCached(product.name);
    if (product === undefined || published === undefined) return load(req, name);
    try {
      return answer(req, product, published);
    } catch (err) {
      return coapErrorReply(err);
    }
  };
}

/**
 * `/fw/d/<digest>`: searched among the RIOT products' published slot images only (what generated manifests
 * point at), so the short path serves nothing the long paths would not.
 */
function digestHandler(services: Services, view: CatalogView): CoapHandler {
  return async (req) => {
    const digest = (req.params.digest ?? '').toLowerCase();
    if (!/^[0-9a-f]{16}$/.test(digest)) return coapErrorReply(new DomainError('INVALID_NAME'));
    try {
      for (const { product } of view.listing()) {
        if (!isRiot(product)) continue;
        for (const release of await services.releases.listPublished(product.name)) {
          const artifact = release.artifacts.find(
            (a) => (a.name === 'slot0' || a.name === 'slot1') && a.sha256.startsWith(digest),
          );
          if (artifact) {
            return {
              code: Code.CONTENT,
              body: artifactBody(services, release, artifact, { deviceId: deviceIdOf(req.peer) }),
            };
          }
        }
      }
      return { code: Code.NOT_FOUND };
    } catch (err) {
      return coapErrorReply(err);
    }
  };
}

interface Link {
  readonly path: string;
  readonly attributes: LinkAttributes;
}

const link = (path: string, rt: string, size: number, obs = false): Link => ({
  path,
  attributes: { rt, sz: size, ct: ContentFormat.OCTET_STREAM, obs },
});

/** What /.well-known/core lists for one product: its newest release's files and the latest resources. */
export function linksOf({ product, newest }: ListedProduct): Link[] {
  if (!newest) return [];
  if (isRiot(product)) {
    const board = boardOf(product);
    const manifest = riotManifestOf(newest);
    if (board === undefined || !manifest) return [];
    return [
      link(fwPath(product.name, board, RIOT_LATEST_MANIFEST), RT_MANIFEST, manifest.artifact.size, true),
      ...riotFilesOf(newest).map((f) =>
        link(fwPath(product.name, board, f.name), f.manifest ? RT_MANIFEST : RT_FIRMWARE, f.artifact.size),
      ),
    ];
  }
  return newest.artifacts.flatMap((a) => [
    link(fwPath(product.name, LATEST, a.name), RT_FIRMWARE, a.size, true),
    link(fwPath(product.name, newest.version, a.name), RT_FIRMWARE, a.size),
  ]);
}

/** The paths whose representation a release event may have changed, observed or not. */
function changedPaths(
  event: ReleaseEvent,
  before: ListedProduct | undefined,
  after: ListedProduct | undefined,
): string[] {
  const product = after?.product ?? before?.product;
  if (!product) return [];
  const paths = new Set<string>();
  const gone = event.type === 'revoked' || event.type === 'deleted';
  const latestChanged = before?.newest?.id !== after?.newest?.id || before === undefined;
  if (isRiot(product)) {
    const board = boardOf(product);
    if (board === undefined) return [];
    if (latestChanged) paths.add(fwPath(product.name, board, RIOT_LATEST_MANIFEST));
    // Observers of a revoked release's files get 4.04, which ends their observation (RFC 7641 §4.2).
    if (gone) for (const f of riotFilesOf(event.release)) paths.add(fwPath(product.name, board, f.name));
    return [...paths];
  }
  if (latestChanged) {
    const names = new Set<string>();
    for (const r of [before?.newest, after?.newest, event.release] as (Release | undefined)[])
      for (const a of r?.artifacts ?? []) names.add(a.name);
    for (const n of names) paths.add(fwPath(product.name, LATEST, n));
  }
  if (gone)
    for (const a of event.release.artifacts) paths.add(fwPath(product.name, event.release.version, a.name));
  return [...paths];
}

async function onReleaseEvent(server: CoapServer, view: CatalogView, event: ReleaseEvent): Promise<void> {
  if (event.type === 'created') return; // a published one also emits 'published'
  const { before, after } = await view.refreshProduct(event.release.product);
  await Promise.all(changedPaths(event, before, after).map((path) => server.notifyObservers(path)));
}

export const catalogResources: CoapAdapter = (server, services, options) => {
  const view = createCatalogView(services);
  const deviceIds = options.deviceIds ?? deviceIdOf;
  server.route('GET', FIRMWARE_ROUTE, firmwareHandler(services, view, deviceIds), {
    // Registration is allowed on every file; /.well-known/core marks only the latest ones `obs`.
    obs: true,
    // Only products open to anyone are listed: a closed or token-protected one is not even named.
    instances: () => [...view.listing()].filter((l) => listable(l.product)).flatMap(linksOf),
  });
  server.route('GET', DIGEST_ROUTE, digestHandler(services, view));
  void view.load();
  // Notifications run after the publish returned; a failure to notify must never fail or delay it.
  return services.releaseEvents.subscribe((event) => {
    onReleaseEvent(server, view, event).catch(() => undefined);
  });
};
