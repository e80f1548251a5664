import { describe } from 'node:test';
import { deploymentScenarios } from './scenarios.js';
import { postgresSchemas } from '../support/pg-schema.js';

describe('deployments on PostgreSQL, scenarios 7-8 (kill -9 and immediate mode): the fleet simulator', () => {
  deploymentScenarios(postgresSchemas(), [7, 8]);
});
