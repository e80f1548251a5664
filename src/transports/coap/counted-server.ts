import type { Metrics } from '../../core/metrics/metrics.js';
import { isPromiseLike } from './maybe-async.js';
import type { CoapHandler, CoapReply } from './resource.js';
import type { CoapServer } from './server.js';

/** CoAP code `c.dd` as a number the metrics' status classes read: 2.05 → 205; a RST → 0. */
const statusOf = (reply: CoapReply): number =>
  reply.reset ? 0 : (reply.code >> 5) * 100 + (reply.code & 0x1f);

/**
 * The server as one adapter sees it, with each handler's answers counted under the adapter's family
 * (`updraft_requests_total{transport="coap"}`). Synchronous handlers stay synchronous (maybe-async.ts);
 * Observe notifications are not requests and are not counted.
 */
export function countedCoapServer(server: CoapServer, family: string, metrics: Metrics): CoapServer {
  const count = (reply: CoapReply): CoapReply => {
    metrics.request('coap', family, statusOf(reply));
    return reply;
  };
  const counted = (handler: CoapHandler): CoapHandler => {
    return (req) => {
      if (req.notification) return handler(req);
      let reply: ReturnType<CoapHandler>;
      try {
        reply = handler(req);
      } catch (err) {
        metrics.request('coap', family, 500);
        throw err;
      }
      if (!isPromiseLike(reply)) return count(reply);
      return reply.then(count, (err: unknown) => {
        metrics.request('coap', family, 500);
        throw err;
      });
    };
  };
  // Delegation keeps the server's getters (observerCount) and every other method as they are.
  return Object.assign(Object.create(server) as CoapServer, {
    route: (...[method, pattern, handler, attributes]: Parameters<CoapServer['route']>) =>
      server.route(method, pattern, counted(handler), attributes),
  });
}
