import { describe } from 'node:test';
import { deploymentScenarios } from './scenarios.js';

describe('deployments on SQLite, scenarios 1-2 (waves and a fallback halt): the fleet simulator', () => {
  deploymentScenarios(async () => undefined, [1, 2]);
});
