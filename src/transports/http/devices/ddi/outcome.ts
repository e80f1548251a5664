import type { OutcomeReport } from '../../../../core/updates/update-service.js';

/** What a device may report (DDI feedback, SWUpdate's log), in the deployment contract's words. */
export type Outcome = OutcomeReport['outcome'];
