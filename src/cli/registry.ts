import type { Command } from 'commander';
import { registerKeys } from './commands/keys.js';
import { registerManifest } from './commands/manifest.js';
import { registerImport } from './commands/import.js';
import { registerBasicAuth } from './commands/basic-auth.js';
import { registerNotify } from './commands/riot.js';
import { registerAudit } from './commands/audit.js';
import { registerConfig } from './commands/config.js';
import { registerWaitReady } from './commands/wait-ready.js';
import { registerProducts } from './commands/products.js';
import { registerDeployments } from './commands/deployments.js';

/** Commands added by feature areas (keys, manifest, notify, import...), registered after the core ones. */
export const cliCommands: ((program: Command) => void)[] = [
  registerKeys,
  registerManifest,
  registerImport,
  registerBasicAuth,
  registerNotify,
  registerAudit,
  registerConfig,
  registerWaitReady,
  registerProducts,
  registerDeployments,
];
