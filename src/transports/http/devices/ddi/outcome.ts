import type { Services } from '../../../../core/services.js';

export type Outcome =
  'downloading' | 'downloaded' | 'succeeded' | 'failed' | 'rejected' | 'cancel-acknowledged';

export interface OutcomeReport {
  deviceId: string;
  product: string;
  version: string;
  outcome: Outcome;
  detail?: string;
}

/** What a DDI or SWUpdate device reported, kept in its history (`feedback` events: `<outcome>: <detail>`). */
export function reportOutcome(services: Services, r: OutcomeReport): void {
  services.devices.record(
    r.deviceId,
    'feedback',
    r.version,
    r.detail ? `${r.outcome}: ${r.detail}` : r.outcome,
  );
}
