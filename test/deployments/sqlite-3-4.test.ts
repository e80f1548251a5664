import { describe } from 'node:test';
import { deploymentScenarios } from './scenarios.js';

describe('deployments on SQLite, scenarios 3-4 (timeouts and the pace caps): the fleet simulator', () => {
  deploymentScenarios(async () => undefined, [3, 4]);
});
