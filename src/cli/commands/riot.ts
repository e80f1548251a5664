import { basename } from 'node:path';
import type { Command } from 'commander';
import { loadClientConfig } from '../../config/client-config.js';
import { createApiClient, type ApiClient, type UploadPart } from '../api-client.js';
import { printJson, progressBar } from '../output.js';
import { withServer } from '../remote.js';
import type { NotifyResult } from '../../core/riot-publish/notify.js';
import type { PublishedFile } from '../../core/riot-publish/publish-ids.js';

/**
 * The RIOT seed client's flags (aabadie/ota-server `client/otaclient.py`, seeds.md §1.6): `--publish-id`,
 * `--files` (HEAD), `--publish` / `--manifest` (the 2019 generation), and its server flags `--ota-host-url`, or
 * `--ota-host` with `--ota-port`, beside Updraft's `--server` / `--token`.
 */
interface SeedOptions {
  publishId?: string;
  files?: string[];
  publish?: string[];
  manifest?: string;
  otaHostUrl?: string;
  otaHost?: string;
  otaPort?: string;
  server?: string;
  token?: string;
  json?: boolean;
}

function withSeedServer(command: Command): Command {
  return command
    .option('--ota-host-url <url>', "the seed client's server flag (same as --server)")
    .option('--ota-host <host>', "the 2019 seed client's server host (with --ota-port, default 8080)")
    .option('--ota-port <port>', "the 2019 seed client's server port");
}

/** Adds the seed client's publish flags to `updraft publish`. */
export function withSeedPublishOptions(command: Command): Command {
  return withSeedServer(command)
    .option('--publish-id <id>', 'RIOT seed form: POST /publish to this publish id')
    .option('--files <files...>', 'RIOT seed form: files, each stored under its base name')
    .option('--publish <files...>', 'RIOT seed form (2019 client): the same as --files')
    .option('--manifest <file>', 'RIOT seed form (2019 client): a manifest, stored as "manifest"');
}

export const isSeedPublish = (opts: SeedOptions) =>
  opts.publishId !== undefined || opts.publish !== undefined;

function seedClient(command: Command): ApiClient {
  const o = command.optsWithGlobals<SeedOptions>();
  const host =
    o.otaHost && o.otaHost.includes(':') && !o.otaHost.startsWith('[') ? `[${o.otaHost}]` : o.otaHost;
  const server = o.server ?? o.otaHostUrl ?? (host ? `http://${host}:${o.otaPort ?? 8080}` : undefined);
  return createApiClient(loadClientConfig({ server, token: o.token }));
}

/**
 * `updraft publish --publish-id ID --files F...` (or `--publish F... --manifest M`): one multipart
 * `POST /publish`. Field names are the paths as typed, as the seed client sent them; the server keeps their base
 * names.
 */
export async function publishSeed(command: Command): Promise<void> {
  const opts = command.opts<SeedOptions>();
  const files = [...(opts.files ?? []), ...(opts.publish ?? [])];
  if (!opts.publishId || (files.length === 0 && !opts.manifest)) {
    command.error(
      'usage: updraft publish --publish-id ID --files FILE... (or --publish FILE... --manifest FILE)',
    );
  }
  const parts: UploadPart[] = [
    { name: 'publish_id', value: opts.publishId },
    ...files.map((path) => ({ name: path, path, filename: basename(path) })),
    ...(opts.manifest ? [{ name: 'manifest', path: opts.manifest, filename: basename(opts.manifest) }] : []),
  ];
  const result = await seedClient(command).upload<{
    publishId: string;
    version: string;
    files: PublishedFile[];
  }>('/publish', parts, progressBar(`publishing ${opts.publishId}`));
  if (opts.json) return printJson(result);
  process.stdout.write(`${result.publishId} ${result.version} published\n`);
  for (const f of result.files) process.stdout.write(`  ${f.name}  ${f.size} bytes  sha256 ${f.sha256}\n`);
}

/** `updraft notify --publish-id ID [--version V] DEVICE...`: one line per device; exit 1 if any failed. */
export function registerNotify(program: Command): void {
  withSeedServer(
    withServer(
      program
        .command('notify')
        .description(
          'tell RIOT devices to update from a publish id (POST /notify, or /notifyv4 with --version)',
        )
        .argument('<devices...>', 'device addresses: [fd00::2], [fd00::2]:5683, 192.0.2.7')
        .requiredOption('--publish-id <id>', 'the publish id whose manifest the devices fetch')
        .option(
          '--version <version>',
          'SUIT v4: notify <app>-riot.suitv4_signed.<version>.bin (e.g. latest)',
        ),
    ),
  ).action(async (devices: string[], _opts, command: Command) => {
    const opts = command.opts<SeedOptions & { version?: string }>();
    const body = {
      publish_id: opts.publishId,
      urls: devices.join(','),
      ...(opts.version !== undefined ? { version: opts.version } : {}),
    };
    const path = opts.version !== undefined ? '/notifyv4' : '/notify';
    const { results } = await seedClient(command).call<{ results: NotifyResult[] }>('POST', path, body);
    if (opts.json) printJson({ results });
    else {
      const width = Math.max(...results.map((r) => r.device.length));
      for (const r of results) {
        const detail = [r.code, r.message].filter(Boolean).join('  ');
        process.stdout.write(`${r.device.padEnd(width)}  ${r.status}${detail ? `  ${detail}` : ''}\n`);
      }
    }
    if (results.some((r) => r.status !== 'ok')) process.exitCode = 1;
  });
}
