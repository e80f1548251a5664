import type { Command } from 'commander';

/** Commands added by feature areas (keys, manifest, notify, import...), registered after the core ones. */
export const cliCommands: ((program: Command) => void)[] = [];
