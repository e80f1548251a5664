import { describe } from 'node:test';
import { deploymentScenarios } from './scenarios.js';
import { postgresSchemas } from '../support/pg-schema.js';

describe('deployments on PostgreSQL, scenarios 3-4 (timeouts and the pace caps): the fleet simulator', () => {
  deploymentScenarios(postgresSchemas(), [3, 4]);
});
