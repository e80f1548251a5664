import type { Command } from 'commander';
import { clientFor, enc, withServer } from '../remote.js';
import { printJson, printTable } from '../output.js';
import type { Device, DeviceEvent } from '../../core/devices/types.js';

export function registerDevices(program: Command): void {
  const devices = program.command('devices').description('list or show devices');

  withServer(
    devices
      .command('list')
      .option('--product <p>')
      .option('--version <v>')
      .option('--search <text>')
      .option('--limit <n>', 'page size', '50')
      .option('--offset <n>', 'first row', '0'),
  ).action(async (_o, command: Command) => {
    const o = command.opts<Record<string, string | undefined>>();
    const query = new URLSearchParams();
    for (const key of ['product', 'version', 'search', 'limit', 'offset']) {
      const value = o[key];
      if (value) query.set(key, value);
    }
    const page = await clientFor(command).call<{ items: Device[]; total: number }>(
      'GET',
      `/api/v1/devices?${query}`,
    );
    if (o.json) return printJson(page);
    printTable(page.items as unknown as Record<string, unknown>[], [
      'id',
      'product',
      'version',
      'lastSeen',
      'lastUpdate',
      'protocol',
      'address',
    ]);
    process.stdout.write(`${page.items.length} of ${page.total}\n`);
  });

  withServer(devices.command('show').argument('<id>', 'device id or MAC')).action(
    async (id: string, _o, command: Command) => {
      const device = await clientFor(command).call<Device & { history: DeviceEvent[] }>(
        'GET',
        `/api/v1/devices/${enc(id)}`,
      );
      if (command.opts().json) return printJson(device);
      const { history, attributes, ...fields } = device;
      for (const [k, v] of Object.entries(fields)) process.stdout.write(`${k.padEnd(14)} ${v ?? '-'}\n`);
      for (const [k, v] of Object.entries(attributes)) process.stdout.write(`  ${k.padEnd(12)} ${v}\n`);
      printTable(history as unknown as Record<string, unknown>[], ['at', 'kind', 'version', 'detail']);
    },
  );
}
