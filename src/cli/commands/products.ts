import type { Command } from 'commander';
import { clientFor, enc, withServer } from '../remote.js';
import { printJson, printTable } from '../output.js';
import type { Product } from '../../core/catalog/types.js';

export function registerProducts(program: Command): void {
  const products = program.command('products').description('list or show products');

  withServer(products.command('list')).action(async (_o, command: Command) => {
    const { items } = await clientFor(command).call<{ items: Product[] }>('GET', '/api/v1/products');
    if (command.opts().json) return printJson(items);
    printTable(items as unknown as Record<string, unknown>[], [
      'name',
      'deviceFamily',
      'hardwareClass',
      'createdAt',
      'description',
    ]);
  });

  withServer(products.command('show').argument('<name>')).action(
    async (name: string, _o, command: Command) => {
      const product = await clientFor(command).call<Product>('GET', `/api/v1/products/${enc(name)}`);
      if (command.opts().json) return printJson(product);
      for (const [k, v] of Object.entries(product)) {
        process.stdout.write(`${k.padEnd(14)} ${typeof v === 'object' ? JSON.stringify(v) : (v ?? '-')}\n`);
      }
    },
  );
}
