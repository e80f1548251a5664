import { describe } from 'node:test';
import { deploymentScenarios } from './scenarios.js';

describe('deployments on SQLite: the fleet simulator through the real protocols', () => {
  deploymentScenarios(async () => undefined);
});
