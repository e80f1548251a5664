import { describe } from 'node:test';
import { deploymentScenarios } from './scenarios.js';

describe('deployments on SQLite, scenarios 7-8 (kill -9 and immediate mode): the fleet simulator', () => {
  deploymentScenarios(async () => undefined, [7, 8]);
});
