import { basename } from 'node:path';
import type { Command } from 'commander';
import { clientFor, enc, withServer } from '../remote.js';
import { printJson, progressBar } from '../output.js';
import { ApiError, type UploadPart } from '../api-client.js';
import type { Release } from '../../core/catalog/types.js';
import { isSeedPublish, publishSeed, withSeedPublishOptions } from './riot.js';

/** `name=path` names the artifact; a bare path uses the file's base name. */
export function parseFileArg(arg: string): UploadPart {
  const eq = arg.indexOf('=');
  if (eq > 0)
    return { name: arg.slice(0, eq), path: arg.slice(eq + 1), filename: basename(arg.slice(eq + 1)) };
  return { name: basename(arg), path: arg, filename: basename(arg) };
}

export function registerPublish(program: Command): void {
  withSeedPublishOptions(
    withServer(
      program
        .command('publish')
        .description(
          'upload a release: updraft publish <product> <version> [name=]file... ' +
            '(RIOT seed: updraft publish --publish-id ID --files FILE...)',
        )
        .argument('[product]', 'product name')
        .argument(
          '[version]',
          'version: SemVer (1.2 is read as 1.2.0), four-part (1.2.0.0) or a name (docs/versions.md)',
        )
        .argument(
          '[files...]',
          'files; "slot0=build/slot0.bin" names the artifact, else the base name is used',
        )
        .option('--notes <text>', 'release notes')
        .option('--draft', 'upload without publishing')
        .option(
          '--device-family <family>',
          'device family when the product is created (esp8266, esp32, esp-at, riot...)',
        ),
    ),
  ).action(
    async (
      product: string | undefined,
      version: string | undefined,
      files: string[],
      _opts,
      command: Command,
    ) => {
      if (isSeedPublish(command.opts())) return publishSeed(command);
      const opts = command.opts<{ notes?: string; draft?: boolean; deviceFamily?: string; json?: boolean }>();
      if (!product || !version || files.length === 0) {
        command.error('usage: updraft publish <product> <version> [name=]file...');
      }
      const client = clientFor(command);
      try {
        await client.call('GET', `/api/v1/products/${enc(product)}`);
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 404) throw err;
        await client.call('POST', '/api/v1/products', {
          name: product,
          deviceFamily: opts.deviceFamily ?? '',
        });
        process.stderr.write(`created product ${product}\n`);
      }
      const parts: UploadPart[] = [
        { name: 'version', value: version },
        { name: 'notes', value: opts.notes ?? '' },
        { name: 'publish', value: opts.draft ? 'false' : 'true' },
        ...files.map(parseFileArg),
      ];
      const release = await client.upload<Release>(
        `/api/v1/products/${enc(product)}/releases`,
        parts,
        progressBar(`uploading ${product} ${version}`),
      );
      if (opts.json) printJson(release);
      else {
        process.stdout.write(`${release.product} ${release.version} ${release.state}\n`);
        for (const a of release.artifacts)
          process.stdout.write(`  ${a.name}  ${a.size} bytes  sha256 ${a.sha256}\n`);
      }
    },
  );
}
