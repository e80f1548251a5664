/** CoAP message model (RFC 7252 §3). Pure data: the codec turns it into bytes and back. */

/** Message types (RFC 7252 §3, §4). */
export const MessageType = { CON: 0, NON: 1, ACK: 2, RST: 3 } as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** A code is `class << 5 | detail`, written c.dd (RFC 7252 §3, §12.1). */
export const code = (cls: number, detail: number): number => (cls << 5) | detail;

export const Code = {
  EMPTY: 0,
  GET: code(0, 1),
  POST: code(0, 2),
  PUT: code(0, 3),
  DELETE: code(0, 4),
  FETCH: code(0, 5),
  PATCH: code(0, 6),
  IPATCH: code(0, 7),
  CREATED: code(2, 1),
  DELETED: code(2, 2),
  VALID: code(2, 3),
  CHANGED: code(2, 4),
  CONTENT: code(2, 5),
  CONTINUE: code(2, 31),
  BAD_REQUEST: code(4, 0),
  UNAUTHORIZED: code(4, 1),
  BAD_OPTION: code(4, 2),
  FORBIDDEN: code(4, 3),
  NOT_FOUND: code(4, 4),
  METHOD_NOT_ALLOWED: code(4, 5),
  NOT_ACCEPTABLE: code(4, 6),
  REQUEST_ENTITY_INCOMPLETE: code(4, 8),
  PRECONDITION_FAILED: code(4, 12),
  REQUEST_ENTITY_TOO_LARGE: code(4, 13),
  UNSUPPORTED_CONTENT_FORMAT: code(4, 15),
  INTERNAL_SERVER_ERROR: code(5, 0),
  NOT_IMPLEMENTED: code(5, 1),
  SERVICE_UNAVAILABLE: code(5, 3),
  GATEWAY_TIMEOUT: code(5, 4),
  PROXYING_NOT_SUPPORTED: code(5, 5),
} as const;

export const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'FETCH', 'PATCH', 'iPATCH'] as const;
export type Method = (typeof METHODS)[number];

/** Method name for a request code 0.01–0.07 (RFC 7252 §12.1.1, RFC 8132 §2); undefined for others. */
export function methodOf(c: number): Method | undefined {
  return c >= 1 && c <= 7 ? METHODS[c - 1] : undefined;
}

/** The request code of a method, the inverse of `methodOf`. */
export const methodCode = (m: Method): number => METHODS.indexOf(m) + 1;

/** "2.05" style, as libcoap and the RFCs print codes. */
export function formatCode(c: number): string {
  return `${c >> 5}.${String(c & 0x1f).padStart(2, '0')}`;
}

export const isRequestCode = (c: number): boolean => c !== 0 && c >> 5 === 0;
export const isResponseCode = (c: number): boolean => {
  const cls = c >> 5;
  return cls >= 2 && cls <= 5;
};
export const isSuccessCode = (c: number): boolean => c >> 5 === 2;

export interface CoapOption {
  readonly number: number;
  readonly value: Buffer;
}

export interface CoapMessage {
  readonly type: MessageType;
  readonly code: number;
  readonly messageId: number;
  /** 0–8 bytes (RFC 7252 §5.3.1). */
  readonly token: Buffer;
  /** Sorted by option number; repeated options keep their order (RFC 7252 §3.1, §5.4.5). */
  readonly options: readonly CoapOption[];
  readonly payload: Buffer;
}

/** The UDP peer of an exchange. */
export interface Peer {
  readonly address: string;
  readonly port: number;
}

export const peerKey = (p: Peer): string => `${p.address}|${p.port}`;

export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);
