import { describe } from 'node:test';
import { deploymentScenarios } from './scenarios.js';
import { postgresSchemas } from '../support/pg-schema.js';

describe('deployments on PostgreSQL, scenarios 1-2 (waves and a fallback halt): the fleet simulator', () => {
  deploymentScenarios(postgresSchemas(), [1, 2]);
});
