import { access } from 'node:fs/promises';
import type { Command } from 'commander';
import { clientFor, withServer } from '../remote.js';
import { printJson, printTable } from '../output.js';
import { ApiError } from '../api-client.js';
import { readKeyFile, tokenName, writeKeyFile } from '../key-file.js';
import type { TokenRecord } from '../../core/tokens/types.js';

/**
 * `updraft tokens import FILE` and `updraft tokens export FILE`: the ESP-AT seed's authorisation_keys.json.
 * Tokens are stored hashed, so an export cannot give their values back: it writes the inventory with
 * `"Token": null` (a seed server loading it grants nothing). Values reach a file only when they exist: at
 * `tokens create --device --out FILE`, and in the file an import read (which it never writes).
 */
export function registerKeyFileCommands(tokens: Command): void {
  withServer(
    tokens
      .command('import')
      .description(
        'import device tokens from an ESP-AT seed key file ([{"Name", "Token"}]); the file is only read',
      )
      .argument('<file>')
      .option('--product <p>', 'limit every imported token to one product'),
  ).action(async (file: string, _o, command: Command) => {
    const o = command.opts<{ product?: string; json?: boolean }>();
    const keys = await readKeyFile(file);
    const client = clientFor(command);
    const { items } = await client.call<{ items: TokenRecord[] }>('GET', '/api/v1/tokens?kind=device');
    const names = new Set(items.map((t) => t.name));
    const results: { name: string; result: string }[] = [];
    for (const key of keys) {
      const name = tokenName(key.Name);
      const shown = name ?? key.Name;
      if (!key.Token) {
        results.push({ name: shown, result: 'skipped: no token' });
      } else if (name && names.has(name)) {
        results.push({ name: shown, result: 'skipped: a device token with this name exists' });
      } else {
        // Any string the seed accepted is imported (stored hashed); the server refuses only what no header can
        // carry (spaces, control characters, more than 256 characters) and values already registered.
        try {
          const created = await client.call<TokenRecord>('POST', '/api/v1/tokens', {
            kind: 'device',
            name,
            product: o.product,
            token: key.Token,
          });
          names.add(created.name);
          const weak = /^[0-9a-fA-F]{40}$/.test(key.Token)
            ? ''
            : ' (not 40 hex characters: the seed accepted it)';
          results.push({ name: created.name, result: `imported${weak}` });
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          const skipped = err.code === 'TOKEN_EXISTS' || err.code === 'INVALID_INPUT';
          results.push({ name: shown, result: `${skipped ? 'skipped' : 'failed'}: ${err.message}` });
        }
      }
    }
    const imported = results.filter((r) => r.result.startsWith('imported')).length;
    if (!o.json) process.stderr.write(`${imported} of ${keys.length} tokens imported\n`);
    if (o.json) return printJson(results);
    printTable(results, ['name', 'result']);
    if (results.some((r) => r.result.startsWith('failed'))) process.exitCode = 1;
  });

  withServer(
    tokens
      .command('export')
      .description(
        'write the device tokens in the seed key file format; values are not stored, so "Token" is null',
      )
      .argument('<file>')
      .option('--force', 'replace the file if it exists'),
  ).action(async (file: string, _o, command: Command) => {
    const o = command.opts<{ force?: boolean }>();
    const exists = await access(file).then(
      () => true,
      () => false,
    );
    // An existing key file holds the only copies of its token values: never overwrite it by accident.
    if (exists && !o.force) command.error(`${file} exists; use --force to replace it`);
    const { items } = await clientFor(command).call<{ items: TokenRecord[] }>(
      'GET',
      '/api/v1/tokens?kind=device',
    );
    await writeKeyFile(
      file,
      items.map((t) => ({
        Name: t.name,
        Token: null,
        Id: t.id,
        Product: t.product,
        Device: t.device,
        CreatedAt: t.createdAt,
      })),
    );
    process.stdout.write(
      `wrote ${items.length} device tokens to ${file} (names only: values are stored hashed)\n`,
    );
  });
}
