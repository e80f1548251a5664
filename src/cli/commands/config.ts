import type { Command } from 'commander';
import { resolveConfig, type Config } from '../../config/config.js';
import { kebab } from '../../config/config-file.js';
import { printJson, printTable } from '../output.js';

const SECRET_NAME = /token|secret|password|credential/i;

/** What may be shown of a value: secrets as `***`, a URL's password masked, key PEMs by where they live. */
export function maskValue(key: string, value: unknown): unknown {
  if (SECRET_NAME.test(key)) return value === '' || value === undefined ? '' : '***';
  if (key === 'signingKeys') {
    return Object.fromEntries(
      Object.entries(value as Config['signingKeys']).map(([name, source]) => [
        name,
        'file' in source ? source.file : `env ${source.env}`,
      ]),
    );
  }
  if (typeof value === 'string') return value.replace(/(\/\/[^/:@]*:)[^@/]*@/, '$1***@');
  return value;
}

/** `updraft config check [file]`: validates a configuration file and shows the effective configuration. */
export function registerConfig(program: Command): void {
  const config = program.command('config').description('configuration files (docs/configuration.md)');
  config
    .command('check')
    .argument('[file]', 'YAML configuration file (default: UPDRAFT_CONFIG)')
    .option('--json', 'print JSON instead of a table')
    .description(
      'validate a configuration file and print the effective configuration (defaults ← file ← environment), each value with its source; secrets masked',
    )
    .action((file: string | undefined, options: { json?: boolean }) => {
      let resolved: ReturnType<typeof resolveConfig>;
      try {
        resolved = resolveConfig({}, process.env, file ?? (process.env.UPDRAFT_CONFIG || undefined));
      } catch (err) {
        process.stderr.write(`updraft: ${(err as Error).message}\n`);
        process.exit(2);
      }
      const rows = (Object.keys(resolved.config) as (keyof Config)[]).map((key) => ({
        option: kebab(key),
        value: maskValue(key, resolved.config[key]),
        source: resolved.sources[key] ?? 'default',
      }));
      if (options.json) return printJson(rows);
      printTable(
        rows.map((r) => ({ ...r, value: typeof r.value === 'object' ? JSON.stringify(r.value) : r.value })),
        ['option', 'value', 'source'],
      );
    });
}
