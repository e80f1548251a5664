/**
 * The wire format of firmwaremodules/iot-ota-server (`iot-ota-server-coap.js` @1272769e, seeds.md §4) and how it
 * maps onto the catalog. Payload of `GET /updates`, little-endian:
 *
 *   PIDLEN(1) PID(PIDLEN, ASCII) TYPE(1) VERSION(uint32, major<<24 | minor<<16 | build) [OFFSET(uint32)]
 *
 * With OFFSET it is the one-step request the seed implements and devices send; without it, the first step of
 * the two-step form the seed's README describes (it answers an id; `GET /updates/<id>` + OFFSET fetches).
 */
import { createHash } from 'node:crypto';
import type { Artifact, Release } from '../../../core/catalog/types.js';

/** The seed's file-name TYPE `APP` (seeds.md §4.3); every other type string is 0 there. */
export const TYPE_APP = 3;

export interface UpdatesQuery {
  readonly pid: string;
  readonly type: number;
  /** `major.minor.build`, the catalog's SemVer spelling of VERSION. */
  readonly version: string;
  /** Undefined for the first step of the two-step form. */
  readonly offset: number | undefined;
}

/**
 * Parses an `/updates` payload; a string says what is wrong (answered 4.00). The seed answered RST to short
 * payloads and 5.00 with a RangeError text to some others (seeds.md §4.2); a malformed request is the
 * client's error, so it gets 4.00 and a reason.
 */
export function parseUpdatesPayload(payload: Buffer): UpdatesQuery | string {
  const pidLength = payload[0];
  if (pidLength === undefined || pidLength === 0)
    return 'payload must start with PIDLEN (1..255) and the PID';
  const fixed = 1 + pidLength + 1 + 4;
  if (payload.length !== fixed && payload.length !== fixed + 4) {
    return `payload must be ${fixed + 4} bytes (PIDLEN PID TYPE VERSION OFFSET) or ${fixed} (without OFFSET), got ${payload.length}`;
  }
  return {
    pid: payload.toString('latin1', 1, 1 + pidLength),
    type: payload.readUInt8(1 + pidLength),
    version: versionOf(payload.readUInt32LE(2 + pidLength)),
    offset: payload.length === fixed ? undefined : payload.readUInt32LE(fixed),
  };
}

/** VERSION as an unsigned 32-bit value (the seed's int32 arithmetic made major ≥ 128 never newer). */
export const versionOf = (encoded: number): string =>
  `${encoded >>> 24}.${(encoded >>> 16) & 0xff}.${encoded & 0xffff}`;

/** One artifact per TYPE in a release: `type-3.fmu` is the APP image. */
export const artifactNameOfType = (type: number): string => `type-${type}.fmu`;

/** The two-step id: 8 hex characters naming one artifact of one release (the README's "hash of the file name"). */
export function stepId(release: Release, artifact: Artifact): string {
  return createHash('sha256')
    .update(`${release.product}\n${release.version}\n${artifact.name}\n${artifact.sha256}`)
    .digest('hex')
    .slice(0, 8);
}
