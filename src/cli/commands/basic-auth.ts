import type { Command } from 'commander';
import { clientFor, enc, withServer } from '../remote.js';
import { hashPassword } from '../../core/tokens/password.js';
import type { Product } from '../../core/catalog/types.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * `updraft basic-auth <product> --username U < password`: sets the product's HTTP Basic credentials for ESP
 * httpUpdate devices (settings.httpBasicAuth). The password is hashed here with scrypt; only the hash is sent.
 */
export function registerBasicAuth(program: Command): void {
  withServer(
    program
      .command('basic-auth')
      .description("require HTTP Basic auth from a product's ESP httpUpdate devices (password on stdin)")
      .argument('<product>')
      .option('--username <name>', 'the user name the devices send')
      .option('--off', 'remove the requirement'),
  ).action(async (product: string, _o, command: Command) => {
    const o = command.opts<{ username?: string; off?: boolean }>();
    if (!o.off && !o.username) command.error('give --username (and the password on stdin), or --off');
    const client = clientFor(command);
    const current = await client.call<Product>('GET', `/api/v1/products/${enc(product)}`);
    const settings: Record<string, unknown> = { ...current.settings };
    if (o.off) {
      delete settings.httpBasicAuth;
    } else {
      const password = await readStdin();
      if (!password) command.error('the password is read from stdin and must not be empty');
      settings.httpBasicAuth = { username: o.username, passwordHash: await hashPassword(password) };
    }
    await client.call('PATCH', `/api/v1/products/${enc(product)}`, { settings });
    process.stdout.write(
      o.off ? `${product}: HTTP Basic auth off\n` : `${product}: HTTP Basic auth on for ${o.username}\n`,
    );
  });
}
