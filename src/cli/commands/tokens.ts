import type { Command } from 'commander';
import { clientFor, enc, withServer } from '../remote.js';
import { printJson, printTable } from '../output.js';
import type { TokenRecord } from '../../core/tokens/types.js';
import { registerKeyFileCommands } from './token-files.js';
import { appendKey } from '../key-file.js';

export function registerTokens(program: Command): void {
  const tokens = program.command('tokens').description('admin and device tokens');

  withServer(
    tokens
      .command('create')
      .option('--admin', 'an admin token (the default)')
      .option('--device', 'a device token (ESP-AT: 40 hex characters)')
      .option('--product <p>', 'limit a device token to one product')
      .option('--device-id <id>', 'limit a device token to one device')
      .option('--name <name>')
      .option(
        '--out <file>',
        'also add a device token to this ESP-AT seed key file (authorisation_keys.json)',
      ),
  ).action(async (_o, command: Command) => {
    const o = command.opts<{
      device?: boolean;
      product?: string;
      deviceId?: string;
      name?: string;
      out?: string;
      json?: boolean;
    }>();
    if (o.out && !o.device) command.error('--out is for device tokens (--device)');
    const created = await clientFor(command).call<TokenRecord & { token: string }>('POST', '/api/v1/tokens', {
      kind: o.device ? 'device' : 'admin',
      name: o.name,
      product: o.product,
      device: o.deviceId,
    });
    // The only moment the value exists outside the device: the server keeps a hash.
    if (o.out) await appendKey(o.out, { Name: created.name, Token: created.token });
    if (o.json) return printJson(created);
    process.stdout.write(`${created.token}\n`);
    process.stderr.write(`token ${created.id} (${created.kind}); it is shown only now\n`);
  });

  withServer(tokens.command('list').option('--kind <kind>', 'admin or device')).action(
    async (_o, command: Command) => {
      const kind = command.opts<{ kind?: string }>().kind;
      const { items } = await clientFor(command).call<{ items: TokenRecord[] }>(
        'GET',
        `/api/v1/tokens${kind ? `?kind=${enc(kind)}` : ''}`,
      );
      if (command.opts().json) return printJson(items);
      printTable(items as unknown as Record<string, unknown>[], [
        'id',
        'kind',
        'name',
        'product',
        'device',
        'createdAt',
      ]);
    },
  );

  withServer(tokens.command('revoke').argument('<id>')).action(async (id: string, _o, command: Command) => {
    await clientFor(command).call('DELETE', `/api/v1/tokens/${enc(id)}`);
    process.stdout.write(`revoked ${id}\n`);
  });

  registerKeyFileCommands(tokens);
}
