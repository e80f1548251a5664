import { isIPv6 } from 'node:net';
import { createPublishIds } from '../../../core/riot-publish/publish-ids.js';
import type { NotifyOutcome, NotifyTarget, SuitDevices } from '../../../core/riot-publish/notify.js';
import type { CoapClient, CoapClientResult } from '../client.js';
import { Code } from '../message.js';
import { artifactBody, deviceIdOf } from './artifact-body.js';
import type { CoapAdapter } from './adapter.js';
import { createProductLookup, refusal } from './coap-access.js';

/**
 * The RIOT seed's file resources (seeds.md §1.3): `GET /<publish path>/<file>`, served block-wise and
 * statelessly (RFC 7959 §2; RIOT asks for 64-byte blocks, device-protocols.md §4.2) from the newest published
 * release of the publish id holding that file, one ranged blob read per block (artifact-body.ts: ETag from the
 * sha256, so a device notices a file replaced mid-transfer; downloads recorded under the device's address).
 *
 * Register it after adapters with parametric routes of their own (`/fw/...`): the router tries those in
 * registration order, and publish ids may not be named `fw` or `updates` anyway (core/riot-publish/names.ts).
 */
export const riotPublishAdapter: CoapAdapter = (server, services, options) => {
  const publishIds = createPublishIds(services);
  const deviceIds = options.deviceIds ?? deviceIdOf;
  const productOf = createProductLookup(services);
  server.route(
    'GET',
    '/:publish/:file',
    async (req) => {
      const path = req.params.publish ?? '';
      const name = req.params.file ?? '';
      const found = await publishIds.findFile(path, name);
      if (!found) {
        // The seed's message, without the absolute server path it disclosed (seeds.md §1.8).
        return { code: Code.NOT_FOUND, body: `File ${path}/${name} not found on server`.slice(0, 200) };
      }
      const product = await productOf(found.release.product);
      const refused = product ? refusal(product, req) : { code: Code.NOT_FOUND };
      if (refused) return refused;
      const deviceId = req.notification ? undefined : deviceIds(req.peer);
      return {
        code: Code.CONTENT,
        body: artifactBody(services, found.release, found.artifact, { deviceId, family: 'riot-publish' }),
      };
    },
    { rt: 'firmware' },
  );
};

/**
 * The outcome without the device's payload: with `--no-seed-auth` anyone may name any target, and echoing what
 * it answered would turn notify into a way to read other CoAP services (issue 13, defect 10).
 */
const describe = (r: CoapClientResult, what: string): NotifyOutcome =>
  r.status === 'timeout'
    ? { status: 'timeout', message: `no answer to ${what}` }
    : r.status === 'unreachable'
      ? { status: 'error', message: `${what}: the device is unreachable (${r.message})` }
      : r.status === 'reset'
        ? { status: 'error', message: `${what} was reset by the device` }
        : { status: 'error', code: r.codeText, message: `${what} answered ${r.codeText}` };

/**
 * The device side of notify over CoAP (device-protocols.md §4.1, RIOT `examples/advanced/suit_update`):
 * `GET /suit/slot/inactive` answers `0` or `1`; a CON `POST /suit/trigger` whose payload is the manifest URL
 * (plain bytes, no NUL; RIOT answers 2.01, the seed's test node 2.04, 4.13 for a URL of 128 bytes or more).
 */
export function createSuitDevices(client: CoapClient): SuitDevices {
  /** `[fd00::2]`, `[fd00::2]:5683`, `fd00::2`, `192.0.2.1`, `node.local`, optionally with `coap://`. */
  function address(device: string): string | undefined {
    let d = device.trim().replace(/^coap:\/\//i, '');
    if (isIPv6(d)) d = `[${d}]`;
    let url: URL;
    try {
      url = new URL(`coap://${d}`);
    } catch {
      return undefined;
    }
    const bare = url.pathname === '' || url.pathname === '/';
    if (!url.hostname || !bare || url.search || url.hash || url.username || url.password) return undefined;
    return `coap://${url.host}`;
  }

  async function manifestFor(
    base: string,
    target: NotifyTarget,
    signal: AbortSignal,
  ): Promise<string | NotifyOutcome> {
    if (target.kind === 'single') return target.manifestUrl;
    const what = 'GET /suit/slot/inactive';
    const answer = await client.request({ url: `${base}/suit/slot/inactive`, signal });
    if (answer.status !== 'response' || !answer.success) return describe(answer, what);
    const text = answer.payload.toString('utf8').trim();
    const slot = text === '0' ? 0 : text === '1' ? 1 : undefined;
    if (slot === undefined) {
      return { status: 'error', code: answer.codeText, message: `${what} answered neither 0 nor 1` };
    }
    return (
      target.manifestUrls[slot] ?? { status: 'error', message: `no manifest was published for slot ${slot}` }
    );
  }

  return {
    address,
    async notify(device, target, signal) {
      const base = address(device);
      if (base === undefined) return { status: 'error', message: 'not a device address' };
      const manifest = await manifestFor(base, target, signal);
      if (typeof manifest !== 'string') return manifest;
      // The deadline passed during the slot query: the device is already reported `timeout`, no trigger now.
      if (signal.aborted) return { status: 'timeout', message: 'the deadline passed before the trigger' };
      const answer = await client.request({
        url: `${base}/suit/trigger`,
        method: 'POST',
        payload: manifest,
        signal,
      });
      if (answer.status === 'response' && answer.success) return { status: 'ok', code: answer.codeText };
      return describe(answer, 'POST /suit/trigger');
    },
  };
}
