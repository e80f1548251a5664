import type { Command } from 'commander';
import { loadClientConfig } from '../config/client-config.js';
import { createApiClient, type ApiClient } from './api-client.js';

/** Adds `--server` and `--token` to a command that talks to a running server. */
export function withServer(command: Command): Command {
  return command
    .option('--server <url>', 'server URL (env UPDRAFT_SERVER, default http://localhost:8080)')
    .option('--token <token>', 'admin token (env UPDRAFT_TOKEN)')
    .option('--json', 'print JSON instead of a table');
}

export function clientFor(command: Command): ApiClient {
  const opts = command.optsWithGlobals<{ server?: string; token?: string }>();
  return createApiClient(loadClientConfig(opts));
}

export const enc = encodeURIComponent;
