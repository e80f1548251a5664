import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import {
  formatInspection,
  inspectEnvelope,
  loadPublicKey,
  verifyEnvelope,
  type ImageEvidence,
} from '../../core/manifests/index.js';
import { printJson } from '../output.js';

const collect = (value: string, previous: string[]) => [...previous, value];

/** `NAME=FILE`, or `FILE` alone, named by its file name (`slot0.1700000000.bin`, as in the URI). */
async function readImages(specs: string[]): Promise<Map<string, ImageEvidence>> {
  const images = new Map<string, ImageEvidence>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const [name, file] = eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : [basename(spec), spec];
    images.set(name, await readFile(file));
  }
  return images;
}

export function registerManifest(program: Command): void {
  const manifest = program.command('manifest').description('SUIT manifests (local files, no server)');

  manifest
    .command('inspect')
    .description('print a SUIT envelope (RIOT draft-09 or draft-37) in readable form')
    .argument('<file>')
    .option('--json', 'print JSON')
    .action(async (file: string, flags: { json?: boolean }) => {
      const inspected = inspectEnvelope(await readFile(file));
      if (flags.json) return printJson(inspected);
      process.stdout.write(`${formatInspection(inspected).trimEnd()}\n`);
    });

  manifest
    .command('verify')
    .description('exit 0 only when the signature, the manifest digest and any given image digests are valid')
    .argument('<file>')
    .requiredOption(
      '--key <file>',
      'trusted public key: PEM, or raw 32-byte Ed25519 (repeatable)',
      collect,
      [],
    )
    .option(
      '--image <name=file>',
      'an image to check; name = component key or URI file name (repeatable)',
      collect,
      [],
    )
    .option('--json', 'print JSON')
    .action(async (file: string, flags: { key: string[]; image: string[]; json?: boolean }) => {
      const trustedKeys = await Promise.all(flags.key.map(async (k) => loadPublicKey(await readFile(k))));
      const images = flags.image.length > 0 ? await readImages(flags.image) : undefined;
      const result = verifyEnvelope(await readFile(file), { trustedKeys, images });
      process.exitCode = result.ok ? 0 : 1;
      if (flags.json) return printJson(result);
      if (result.ok) {
        const checked = images
          ? `signature, manifest digest and ${images.size} image(s)`
          : 'signature and digest';
        process.stdout.write(
          `OK: ${result.format} manifest, sequence ${result.sequenceNumber}; ${checked} valid\n`,
        );
        return;
      }
      process.stderr.write(`INVALID: ${file}\n`);
      for (const e of result.errors) process.stderr.write(`  ${e.code}: ${e.message}\n`);
    });
}
