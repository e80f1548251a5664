import type { ServerResponse } from 'node:http';
import { TOKEN_VALUE } from '../../../../core/tokens/token-service.js';

/**
 * The ESP-AT client (espressif/esp-at components/at/src/at_ota_cmd.c) parses raw TCP bytes with `strstr`,
 * not JSON or HTTP: ../shared/specs/device-protocols.md §3, seeds.md §3.2. These helpers produce exactly the
 * byte shapes it looks for.
 */

/**
 * `Authorization: token <key>`: the word `token` in lowercase and one space, then the key, as the seed accepts
 * (its keys are 40 hex characters when generated, any string when written by hand, inner spaces included).
 */
export function tokenOf(authorization: string | undefined): string | undefined {
  const key = authorization?.startsWith('token ') ? authorization.slice('token '.length) : undefined;
  return key !== undefined && TOKEN_VALUE.test(key) ? key : undefined;
}

// Python `json.dumps` separators (`": "`, `", "`): the client searches for `rom_version": ` with the space and
// takes the value up to `",`, so the version must be a string followed by another member. JSON.stringify is
// used only for the string values, which keeps them escaped.
const str = (value: string) => JSON.stringify(value);

/** Step 1 of AT+CIUPDATE (`?is_format_simple=true`): `{"rom_version": "<v>", "status": 200}`. */
export const versionQueryBody = (version: string) => `{"rom_version": ${str(version)}, "status": 200}`;

/** Largest AT+CIPFWVER body: the client copies it into an 8192-byte buffer without a bounds check. */
export const MAX_LIST_BYTES = 8000;

/**
 * AT+CIPFWVER (`GET /v1/device/rom`): every version as `"version": "<v>", ` (the client takes the value up to
 * `", `), newest first, in the iot.espressif.cn shape; versions that would pass 8000 bytes are left out.
 */
export function versionListBody(versions: string[]): string {
  const head = '{"status": 200, "productRoms": [';
  const tail = ']}';
  const items: string[] = [];
  let length = Buffer.byteLength(head + tail);
  for (const [i, version] of versions.entries()) {
    const item = `{"version": ${str(version)}, "recommended": ${i === 0 ? 1 : 0}}`;
    const added = Buffer.byteLength(item) + (items.length ? 2 : 0);
    if (length + added > MAX_LIST_BYTES) break;
    items.push(item);
    length += added;
  }
  return head + items.join(', ') + tail;
}

/**
 * Writes status line, headers and body in one socket write. Node joins the header block and a string body
 * into a single write when `end(string)` is the first write (http OutgoingMessage `_send`); the client does a
 * single 1024-byte read and needs everything in it. `Content-Length` is spelled as the client searches for it.
 */
export function writeWhole(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    Connection: 'close',
  });
  res.end(body);
}
