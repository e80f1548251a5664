import { describe } from 'node:test';
import { deploymentScenarios } from './scenarios.js';
import { postgresSchemas } from '../support/pg-schema.js';

describe('deployments on PostgreSQL, scenarios 5-6 (rollback and dynamic groups): the fleet simulator', () => {
  deploymentScenarios(postgresSchemas(), [5, 6]);
});
