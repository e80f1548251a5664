/** Public surface of the CoAP transport: what adapters and the composition root import. */
export { createCoapServer, type CoapServer, type CoapServerOptions } from './server.js';
export {
  createCoapClient,
  type CoapClient,
  type CoapClientOptions,
  type CoapClientRequest,
  type CoapClientResult,
} from './client.js';
export { Code, formatCode, MessageType, type CoapOption, type Method, type Peer } from './message.js';
export { ContentFormat, Opt, encodeUint, decodeUint, getOption, getUintOption } from './options.js';
export {
  bufferBody,
  etagFromSha256,
  type CoapBody,
  type CoapHandler,
  type CoapReply,
  type CoapRequest,
  type LinkAttributes,
  type ResourceAttributes,
} from './resource.js';
export type { CoapLogger } from './logger.js';
