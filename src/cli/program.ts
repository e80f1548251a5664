import { Command } from 'commander';
import { registerServe } from './commands/serve.js';
import { registerPublish } from './commands/publish.js';
import { registerReleases } from './commands/releases.js';
import { registerDevices } from './commands/devices.js';
import { registerTokens } from './commands/tokens.js';
import { cliCommands } from './registry.js';

/** The `updraft` command with every subcommand (main.ts runs it; tests can run it in-process). */
export function buildProgram(): Command {
  const program = new Command('updraft')
    .description('Updraft: an over-the-air firmware update server for HTTP and CoAP devices')
    .version('0.1.0')
    // Program options only before the subcommand: otherwise `-V, --version` swallows a command's own --version
    // (`updraft notify --version latest`, `updraft devices list --version 1.2.0`).
    .enablePositionalOptions()
    .showHelpAfterError();

  registerServe(program);
  registerPublish(program);
  registerReleases(program);
  registerDevices(program);
  registerTokens(program);
  for (const register of cliCommands) register(program);
  return program;
}
