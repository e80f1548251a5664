import type { Command } from 'commander';
import { basename } from 'node:path';
import { clientFor, enc, withServer } from '../remote.js';
import { printJson, printTable, progressBar } from '../output.js';
import type { Release } from '../../core/catalog/types.js';

function show(release: Release, json?: boolean): void {
  if (json) return printJson(release);
  process.stdout.write(
    `${release.product} ${release.version}${release.label ? ` (${release.label})` : ''}  ${release.state}\n`,
  );
  process.stdout.write(
    `created ${release.createdAt}${release.publishedAt ? `, published ${release.publishedAt}` : ''}\n`,
  );
  if (release.notes) process.stdout.write(`${release.notes}\n`);
  printTable(release.artifacts as unknown as Record<string, unknown>[], ['name', 'size', 'sha256', 'md5']);
}

export function registerReleases(program: Command): void {
  const releases = program.command('releases').description('list, show, publish, revoke or delete releases');

  withServer(releases.command('list').argument('<product>')).action(
    async (product: string, _o, command: Command) => {
      const { items } = await clientFor(command).call<{ items: Release[] }>(
        'GET',
        `/api/v1/products/${enc(product)}/releases`,
      );
      if (command.opts().json) return printJson(items);
      printTable(
        items.map((r) => ({ ...r, artifacts: r.artifacts.map((a) => a.name).join(',') })),
        ['version', 'state', 'createdAt', 'artifacts'],
      );
    },
  );

  withServer(releases.command('show').argument('<product>').argument('<version>')).action(
    async (product: string, version: string, _o, command: Command) => {
      const release = await clientFor(command).call<Release>(
        'GET',
        `/api/v1/products/${enc(product)}/releases/${enc(version)}`,
      );
      show(release, command.opts().json);
    },
  );

  for (const action of ['publish', 'revoke'] as const) {
    withServer(releases.command(action).argument('<product>').argument('<version>')).action(
      async (product: string, version: string, _o, command: Command) => {
        const release = await clientFor(command).call<Release>(
          'POST',
          `/api/v1/products/${enc(product)}/releases/${enc(version)}/${action}`,
        );
        process.stdout.write(`${release.product} ${release.version} ${release.state}\n`);
      },
    );
  }

  withServer(
    releases
      .command('download')
      .description('download an artifact (sha256 checked), with a progress bar on a terminal')
      .argument('<product>')
      .argument('<version>')
      .argument('<artifact>')
      .option('-o, --out <file>', 'where to write it (default: the artifact name)'),
  ).action(async (product: string, version: string, artifact: string, _o, command: Command) => {
    const o = command.opts<{ out?: string; json?: boolean }>();
    const out = o.out ?? basename(artifact);
    const result = await clientFor(command).download(
      `/api/v1/products/${enc(product)}/releases/${enc(version)}/artifacts/${enc(artifact)}`,
      out,
      progressBar(`downloading ${artifact}`),
    );
    if (o.json) return printJson({ file: out, ...result });
    process.stdout.write(`${out}  ${result.size} bytes  sha256 ${result.sha256}\n`);
  });

  withServer(releases.command('delete').argument('<product>').argument('<version>')).action(
    async (product: string, version: string, _o, command: Command) => {
      await clientFor(command).call('DELETE', `/api/v1/products/${enc(product)}/releases/${enc(version)}`);
      process.stdout.write(`deleted ${product} ${version}\n`);
    },
  );
}
