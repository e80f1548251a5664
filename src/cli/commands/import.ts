import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { pino } from 'pino';
import { createServices, openStorage } from '../../app/services.js';
import { createDropFolder } from '../../transports/drop-folder/drop-folder.js';
import type { Services } from '../../core/services.js';
import { printJson, printTable } from '../output.js';

async function releaseStates(services: Services): Promise<Map<string, string>> {
  const states = new Map<string, string>();
  for (const product of await services.products.list()) {
    for (const r of await services.releases.list(product.name))
      states.set(`${r.product}@${r.version}`, r.state);
  }
  return states;
}

/**
 * `updraft import DIR`: one pass of the drop folder over DIR (the same layouts as --firmware-dir: the seeds'
 * `<product>-<version>.bin`, `partitions/<version>/<file>`, `firmware/firmware_<version>.bin`), written into
 * the local data folder. It works beside a running server on SQLite (WAL) or PostgreSQL.
 */
export function registerImport(program: Command): void {
  program
    .command('import')
    .description("import an existing server's firmware folder once into the local data folder")
    .argument('<dir>', 'the folder (seed layouts: see docs/protocols/http-devices.md)')
    .option('--data <dir>', 'data folder (env UPDRAFT_DATA, default ./data)')
    .option('--database-url <url>', 'sqlite:<path> or postgres://... (env UPDRAFT_DATABASE_URL)')
    .option('--json', 'print JSON')
    .action(async (dir: string, flags: { data?: string; databaseUrl?: string; json?: boolean }) => {
      const folder = resolve(dir);
      if (!(await stat(folder).catch(() => undefined))?.isDirectory()) {
        throw new Error(`${dir} is not a folder`);
      }
      const config = loadConfig({ dataDir: flags.data, databaseUrl: flags.databaseUrl });
      // Warnings (files that fit no layout, versions that are not versions) go to stderr as JSON lines.
      const logger = pino({ level: 'warn', base: { service: 'updraft' } }, pino.destination(2));
      const storage = await openStorage(config, logger);
      try {
        const services = createServices(config, storage, logger);
        const before = await releaseStates(services);
        const drop = createDropFolder(services, { dir: folder, logger });
        await drop.start();
        await drop.stop();
        const changes: { product: string; version: string; state: string; was: string }[] = [];
        for (const [key, state] of await releaseStates(services)) {
          const was = before.get(key) ?? 'new';
          if (was === state) continue;
          const [product = '', version = ''] = key.split('@');
          changes.push({ product, version, state, was });
        }
        if (flags.json) printJson(changes);
        else if (changes.length === 0) process.stdout.write('nothing to import\n');
        else printTable(changes, ['product', 'version', 'state', 'was']);
        await services.devices.stop();
      } finally {
        await storage.connection.close();
      }
    });
}
