import type { SuitFormat } from './digest.js';

/**
 * The numbering of the two SUIT dialects Updraft handles. They share the shape (envelope → bstr manifest →
 * bstr common → command sequences of [command, argument] pairs) but not the numbers (device-protocols.md §4.3
 * vs §5). Sources: draft-ietf-suit-manifest-37 `draft-ietf-suit-manifest.cddl` (suit-wg/manifest-spec
 * 3c9b790b); draft-09 as RIOT's generator writes it, `suit_tool/manifest.py` and `sys/include/suit.h`.
 */
export interface SuitSchema {
  format: SuitFormat;
  /** #6.107 SUIT_Envelope_Tagged exists only in the current draft; RIOT's envelope is an untagged map. */
  envelopeTag: number | null;
  /** Draft-37 puts a SUIT_Digest of the manifest first in the authentication wrapper; draft-09 does not. */
  authStartsWithDigest: boolean;
  /**
   * Manifest members that are a command sequence (bstr .cbor), or a SUIT_Digest when severed, in the order a
   * device runs them.
   */
  manifestSequences: ReadonlyArray<readonly [number, string]>;
  manifestText: number;
  manifestNames: Record<number, string>;
  /** Severed members carried in the envelope next to the manifest, keyed as in the manifest. */
  envelopeSequences: Record<number, string>;
  commands: Record<number, string>;
  parameters: Record<number, string>;
  /** Directives whose argument is itself a sequence or a list of them. */
  tryEach: number;
  runSequence: number | null;
  setComponentIndex: number;
  /** Directives that set parameters; RIOT treats set (19) like override (handlers_command_seq.c `_dtv_set_param`). */
  parameterDirectives: readonly number[];
  offsetParameter: number;
}

const PARAMETERS_COMMON: Record<number, string> = {
  1: 'vendor-id',
  2: 'class-id',
  3: 'image-digest',
  14: 'image-size',
  21: 'uri',
  22: 'source-component',
};

export const IETF_37: SuitSchema = {
  format: 'ietf-37',
  envelopeTag: 107,
  authStartsWithDigest: true,
  manifestSequences: [
    [16, 'payload-fetch'],
    [20, 'install'],
    [7, 'validate'],
    [8, 'load'],
    [9, 'invoke'],
  ],
  manifestText: 23,
  manifestNames: {
    1: 'manifest-version',
    2: 'manifest-sequence-number',
    3: 'common',
    4: 'reference-uri',
    7: 'validate',
    8: 'load',
    9: 'invoke',
    16: 'payload-fetch',
    20: 'install',
    23: 'text',
  },
  envelopeSequences: { 16: 'payload-fetch', 20: 'install' },
  commands: {
    1: 'condition-vendor-identifier',
    2: 'condition-class-identifier',
    3: 'condition-image-match',
    5: 'condition-component-slot',
    6: 'condition-check-content',
    12: 'directive-set-component-index',
    14: 'condition-abort',
    15: 'directive-try-each',
    18: 'directive-write',
    20: 'directive-override-parameters',
    21: 'directive-fetch',
    22: 'directive-copy',
    23: 'directive-invoke',
    24: 'condition-device-identifier',
    31: 'directive-swap',
    32: 'directive-run-sequence',
  },
  parameters: {
    ...PARAMETERS_COMMON,
    5: 'component-slot',
    12: 'strict-order',
    13: 'soft-failure',
    18: 'content',
    23: 'invoke-args',
    24: 'device-id',
    25: 'fetch-arguments',
  },
  tryEach: 15,
  runSequence: 32,
  setComponentIndex: 12,
  parameterDirectives: [20],
  offsetParameter: 5,
};

export const RIOT_09: SuitSchema = {
  format: 'riot-09',
  envelopeTag: null,
  authStartsWithDigest: false,
  manifestSequences: [
    [7, 'dependency-resolution'],
    [8, 'payload-fetch'],
    [9, 'install'],
    [10, 'validate'],
    [11, 'load'],
    [12, 'run'],
  ],
  manifestText: 13,
  manifestNames: {
    1: 'manifest-version',
    2: 'manifest-sequence-number',
    3: 'common',
    4: 'reference-uri',
    7: 'dependency-resolution',
    8: 'payload-fetch',
    9: 'install',
    10: 'validate',
    11: 'load',
    12: 'run',
    13: 'text',
    14: 'coswid',
  },
  envelopeSequences: { 7: 'dependency-resolution', 8: 'payload-fetch', 9: 'install' },
  commands: {
    1: 'condition-vendor-identifier',
    2: 'condition-class-identifier',
    3: 'condition-image-match',
    4: 'condition-use-before',
    5: 'condition-component-offset',
    12: 'directive-set-component-index',
    13: 'directive-set-dependency-index',
    14: 'directive-abort',
    15: 'directive-try-each',
    18: 'directive-process-dependency',
    19: 'directive-set-parameters',
    20: 'directive-override-parameters',
    21: 'directive-fetch',
    22: 'directive-copy',
    23: 'directive-run',
    24: 'condition-device-identifier',
    25: 'condition-image-not-match',
    26: 'condition-minimum-battery',
    27: 'condition-update-authorised',
    28: 'condition-version',
    29: 'directive-wait',
    30: 'directive-run-sequence',
    31: 'directive-run-with-arguments',
    32: 'directive-swap',
  },
  parameters: { ...PARAMETERS_COMMON, 5: 'component-offset', 19: 'compression-info' },
  tryEach: 15,
  runSequence: null,
  setComponentIndex: 12,
  parameterDirectives: [19, 20],
  offsetParameter: 5,
};

/** Keys shared by both drafts. */
export const ENVELOPE_AUTH = 2;
export const ENVELOPE_MANIFEST = 3;
export const MANIFEST_VERSION = 1;
export const MANIFEST_SEQUENCE_NUMBER = 2;
export const MANIFEST_COMMON = 3;
export const COMMON_COMPONENTS = 2;
export const COMMON_SEQUENCE = 4;
export const PARAM_VENDOR_ID = 1;
export const PARAM_CLASS_ID = 2;
export const PARAM_IMAGE_DIGEST = 3;
export const PARAM_IMAGE_SIZE = 14;
export const PARAM_URI = 21;
