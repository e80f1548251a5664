import { describe } from 'node:test';
import { deploymentScenarios } from './scenarios.js';

describe('deployments on SQLite, scenarios 5-6 (rollback and dynamic groups): the fleet simulator', () => {
  deploymentScenarios(async () => undefined, [5, 6]);
});
