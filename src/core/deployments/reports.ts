/**
 * Protocols whose devices report no version after updating (ESP-AT's AT+CIUPDATE sends only its token; a RIOT
 * device notified over CoAP fetches and reboots): a completed download is their success, marked as such in the
 * member's reason (docs/deployments.md).
 */
export const REPORTS_NO_VERSION: ReadonlySet<string> = new Set(['esp-at', 'riot-suit']);
