import type { Command } from 'commander';
import { clientFor, enc, withServer } from '../remote.js';
import { printJson, printTable } from '../output.js';
import { parseDuration } from '../../core/groups/filter.js';
import type { Deployment, DeploymentEvent, DryRun } from '../../core/deployments/types.js';
import type { Group } from '../../core/groups/types.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];
const list = (value: string | undefined) =>
  value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function seconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const s = parseDuration(value);
  if (s === undefined || !Number.isInteger(s))
    throw new Error(`${flag} is a duration like 90s, 30m, 2h or 1d`);
  return s;
}

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a whole number`);
  return n;
}

/** `key=value` pairs of repeated `--option` flags: per-protocol settings (`ddi.download=forced`). */
function options(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs?.length) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--option takes key=value, got "${pair}"`);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

const STATES = [
  'pending',
  'offered',
  'downloading',
  'downloaded',
  'succeeded',
  'failed',
  'timed-out',
  'skipped',
];

function printDeployment(d: Deployment): void {
  const wave = d.state === 'completed' ? '-' : `${d.currentWave + 1}/${d.waves.length}`;
  process.stdout.write(`${d.id}  ${d.product} ${d.version}  ${d.state}  wave ${wave}  ${d.total} devices\n`);
  if (d.haltReason) process.stdout.write(`halted: ${d.haltReason}\n`);
  const rows = d.waves.map((w, i) => ({ wave: `${i + 1} (${w.spec})`, total: w.total, ...w.counts }));
  rows.push({ wave: 'all', total: d.total, ...d.counts });
  printTable(rows as unknown as Record<string, unknown>[], ['wave', 'total', ...STATES]);
}

/** `updraft deploy`, `updraft deployments …`, `updraft groups …`, `updraft devices tag|untag`, `updraft products set`. */
export function registerDeployments(program: Command): void {
  withServer(
    program
      .command('deploy')
      .description('roll a published release out to devices, in waves, stopping by itself on failures')
      .argument('<product>')
      .argument('<version>')
      .option('--to <group>', 'target a group (repeatable)', collect)
      .option('--filter <expr>', 'target devices matching a filter expression (docs/deployments.md)')
      .option('--devices <ids>', 'target these devices (comma-separated ids or MACs)')
      .option('--waves <list>', 'cumulative waves, e.g. 1%,10%,100% or 10,100,1000', '100%')
      .option('--soak <duration>', 'wait after a wave passes before the next opens, e.g. 30m')
      .option('--success <pct>', 'share of a wave that must succeed, e.g. 95%')
      .option('--max-failures <n|pct>', 'halt when more devices fail: 5% or 5')
      .option('--min-final <n>', 'judge the threshold only once this many devices are final')
      .option('--timeout <duration>', 'time after the offer for a device to succeed, e.g. 2h')
      .option('--rate <n/min>', 'at most N new devices offered per minute')
      .option('--max-downloads <n>', 'at most N downloads of this deployment at once')
      .option('--window <HH:MM-HH:MM@Zone>', 'daily maintenance window, e.g. 01:00-05:00@Europe/Berlin')
      .option('--start <iso>', 'start time (ISO-8601)')
      .option('--rollback', 'on halt, offer each device that installed it the release it ran before')
      .option('--option <key=value>', 'per-protocol setting (repeatable), e.g. ddi.download=forced', collect)
      .option('--dry-run', 'only show how many devices match and the size of each wave'),
  ).action(async (product: string, version: string, _o, command: Command) => {
    const o = command.opts<Record<string, string | string[] | boolean | undefined>>();
    const str = (k: string) => o[k] as string | undefined;
    const rate = str('rate');
    if (rate !== undefined && !/^\d+(\/min)?$/.test(rate)) throw new Error('--rate is N/min, e.g. 10/min');
    let window: { start: string; end: string; timeZone: string } | undefined;
    const w = str('window');
    if (w !== undefined) {
      const m = /^(\d\d:\d\d)-(\d\d:\d\d)(?:@(.+))?$/.exec(w);
      if (!m) throw new Error('--window is HH:MM-HH:MM@Time/Zone, e.g. 01:00-05:00@Europe/Berlin');
      window = { start: m[1] as string, end: m[2] as string, timeZone: m[3] ?? 'UTC' };
    }
    const success = str('success');
    const body = {
      product,
      version,
      groups: o.to as string[] | undefined,
      filter: str('filter'),
      devices: list(str('devices')),
      waves: list(str('waves')),
      soakSeconds: seconds(str('soak'), '--soak'),
      successPercent: success === undefined ? undefined : Number(success.replace(/%$/, '')),
      maxFailures: str('maxFailures'),
      minFinal: integer(str('minFinal'), '--min-final'),
      timeoutSeconds: seconds(str('timeout'), '--timeout'),
      ratePerMinute: rate === undefined ? undefined : Number(rate.replace('/min', '')),
      maxDownloads: integer(str('maxDownloads'), '--max-downloads'),
      window,
      startAt: str('start'),
      rollback: o.rollback === true ? true : undefined,
      options: options(o.option as string[] | undefined),
      dryRun: o.dryRun === true ? true : undefined,
    };
    const result = await clientFor(command).call<Deployment | DryRun>('POST', '/api/v1/deployments', body);
    if (o.json) return printJson(result);
    if ('matched' in result) {
      process.stdout.write(`dry run: ${result.matched} devices match\n`);
      printTable(
        result.waves.map((wave, i) => ({ wave: i + 1, spec: wave.spec, devices: wave.size })),
        ['wave', 'spec', 'devices'],
      );
      return;
    }
    printDeployment(result);
  });

  const deployments = program.command('deployments').description('list, show and steer deployments');
  withServer(
    deployments.command('list').option('--product <p>').option('--state <states>', 'comma-separated'),
  ).action(async (_o, command: Command) => {
    const o = command.opts<Record<string, string | undefined>>();
    const q = new URLSearchParams();
    if (o.product) q.set('product', o.product);
    if (o.state) q.set('state', o.state);
    const { items } = await clientFor(command).call<{ items: Deployment[] }>(
      'GET',
      `/api/v1/deployments?${q}`,
    );
    if (o.json) return printJson({ items });
    printTable(
      items.map((d) => ({
        ...d,
        wave: `${d.currentWave + 1}/${d.waves.length}`,
        succeeded: d.counts.succeeded,
        failed: d.counts.failed + d.counts['timed-out'],
      })) as unknown as Record<string, unknown>[],
      ['id', 'product', 'version', 'state', 'wave', 'total', 'succeeded', 'failed', 'createdAt'],
    );
  });

  withServer(
    deployments.command('show').argument('<id>').option('--events', 'also print its history'),
  ).action(async (id: string, _o, command: Command) => {
    const client = clientFor(command);
    const d = await client.call<Deployment>('GET', `/api/v1/deployments/${enc(id)}`);
    const o = command.opts<{ json?: boolean; events?: boolean }>();
    const events = o.events
      ? (
          await client.call<{ items: DeploymentEvent[] }>(
            'GET',
            `/api/v1/deployments/${enc(id)}/events?limit=1000`,
          )
        ).items
      : undefined;
    if (o.json) return printJson(events ? { ...d, events } : d);
    printDeployment(d);
    if (events)
      printTable(events as unknown as Record<string, unknown>[], ['at', 'deviceId', 'kind', 'detail']);
  });

  for (const action of ['pause', 'resume', 'cancel', 'rollback'] as const) {
    withServer(deployments.command(action).argument('<id>')).action(
      async (id: string, _o, command: Command) => {
        const d = await clientFor(command).call<Deployment>(
          'POST',
          `/api/v1/deployments/${enc(id)}/${action}`,
          {},
        );
        if (command.opts().json) return printJson(d);
        printDeployment(d);
      },
    );
  }

  const groups = program.command('groups').description('device groups: static lists or dynamic filters');
  withServer(
    groups
      .command('create')
      .argument('<name>')
      .option('--filter <expr>', 'a dynamic group: every device matching the expression')
      .option('--devices <ids>', 'a static group: these devices (comma-separated)'),
  ).action(async (name: string, _o, command: Command) => {
    const o = command.opts<Record<string, string | undefined>>();
    const g = await clientFor(command).call<Group>('POST', '/api/v1/groups', {
      name,
      filter: o.filter,
      devices: list(o.devices),
    });
    if (o.json) return printJson(g);
    process.stdout.write(`group ${g.name} (${g.kind}) created\n`);
  });
  withServer(groups.command('list')).action(async (_o, command: Command) => {
    const { items } = await clientFor(command).call<{ items: Group[] }>('GET', '/api/v1/groups');
    if (command.opts().json) return printJson({ items });
    printTable(
      items.map((g) => ({
        ...g,
        members: g.kind === 'static' ? g.devices.length : '-',
      })) as unknown as Record<string, unknown>[],
      ['name', 'kind', 'filter', 'members', 'createdAt'],
    );
  });
  withServer(groups.command('show').argument('<name>')).action(async (name: string, _o, command: Command) => {
    const g = await clientFor(command).call<Group>('GET', `/api/v1/groups/${enc(name)}`);
    if (command.opts().json) return printJson(g);
    process.stdout.write(`${g.name}  ${g.kind}  ${g.filter ?? ''}\n`);
    for (const d of g.devices) process.stdout.write(`  ${d}\n`);
  });
  withServer(groups.command('delete').argument('<name>')).action(
    async (name: string, _o, command: Command) => {
      await clientFor(command).call('DELETE', `/api/v1/groups/${enc(name)}`);
      if (!command.opts().json) process.stdout.write(`group ${name} deleted\n`);
    },
  );

  // `devices` is a core command; tag and untag join it.
  const devices =
    program.commands.find((c) => c.name() === 'devices') ?? program.command('devices').description('devices');
  for (const [name, method] of [
    ['tag', 'POST'],
    ['untag', 'DELETE'],
  ] as const) {
    withServer(
      devices
        .command(name)
        .description(name === 'tag' ? 'add tags to a device' : 'remove tags from a device')
        .argument('<id>', 'device id or MAC')
        .argument('<tags...>'),
    ).action(async (id: string, tags: string[], _o, command: Command) => {
      const client = clientFor(command);
      let result: { id: string; tags: string[] };
      if (method === 'POST') {
        result = await client.call('POST', `/api/v1/devices/${enc(id)}/tags`, { tags });
      } else {
        result = { id, tags: [] };
        for (const t of tags)
          result = await client.call('DELETE', `/api/v1/devices/${enc(id)}/tags/${enc(t)}`);
      }
      if (command.opts().json) return printJson(result);
      process.stdout.write(`${result.id}: ${result.tags.join(' ') || '(no tags)'}\n`);
    });
  }

  const products =
    program.commands.find((c) => c.name() === 'products') ??
    program.command('products').description('product settings');
  withServer(
    products
      .command('set')
      .argument('<product>')
      .requiredOption('--rollout-mode <mode>', 'immediate (newest release to everyone) or deployments'),
  ).action(async (product: string, _o, command: Command) => {
    const o = command.opts<{ rolloutMode: string; json?: boolean }>();
    const p = await clientFor(command).call<{ name: string; settings: Record<string, unknown> }>(
      'PUT',
      `/api/v1/products/${enc(product)}/rollout-mode`,
      { rolloutMode: o.rolloutMode },
    );
    if (o.json) return printJson(p);
    process.stdout.write(`${p.name}: rollout mode ${String(p.settings.rolloutMode)}\n`);
  });
}
