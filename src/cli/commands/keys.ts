import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { openKeyStore } from '../../app/keys.js';
import {
  assertKeyAlgorithm,
  exportPublicKeyAs,
  KEY_ALGORITHMS,
  KEY_EXPORT_FORMATS,
  type KeyExportFormat,
  type KeyStore,
} from '../../core/keys/index.js';
import { DomainError } from '../../core/errors.js';
import { printJson, printTable } from '../output.js';

interface LocalFlags {
  data?: string;
  keysDir?: string;
  json?: boolean;
}

/** Like `serve`, the keys commands work on the local data folder: private keys never travel over the API. */
function local(command: Command): Command {
  return command
    .option('--data <dir>', 'data folder (env UPDRAFT_DATA, default ./data)')
    .option('--keys-dir <dir>', 'keys folder (env UPDRAFT_KEYS_DIR, default <data>/keys)')
    .option('--json', 'print JSON');
}

function storeFor(flags: LocalFlags): KeyStore {
  return openKeyStore(loadConfig({ dataDir: flags.data, keysDir: flags.keysDir }));
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('signing keys for SUIT manifests and ESP images (local)');

  local(
    keys
      .command('generate')
      .description('create a key pair in the keys folder (private key file mode 0600)')
      .requiredOption('--name <name>', 'key name, used in product settings (settings.suit.key)')
      .option('--alg <alg>', `${KEY_ALGORITHMS.join('|')} (default ed25519)`, 'ed25519'),
  ).action(async (flags: LocalFlags & { name: string; alg: string }) => {
    const info = await storeFor(flags).generate(flags.name, assertKeyAlgorithm(flags.alg));
    if (flags.json) return printJson(info);
    process.stdout.write(info.publicKeyPem);
    process.stderr.write(`generated ${info.algorithm} key "${info.name}" in ${info.location} (mode 0600)\n`);
  });

  local(keys.command('list').description('keys of the data folder and the configured ones')).action(
    async (flags: LocalFlags) => {
      const items = await storeFor(flags).list();
      if (flags.json) return printJson(items);
      printTable(
        items.map((k) => ({ ...k, private: k.private ? 'yes' : 'public only' })) as unknown as Record<
          string,
          unknown
        >[],
        ['name', 'algorithm', 'private', 'source', 'fingerprint'],
      );
    },
  );

  local(
    keys
      .command('export')
      .description('print a public key for a device build (RIOT: --format c-array or pem)')
      .requiredOption('--name <name>', 'key name')
      .option('--format <format>', `${KEY_EXPORT_FORMATS.join('|')} (default pem)`, 'pem')
      .option('--out <file>', 'write to a file instead of stdout'),
  ).action(async (flags: LocalFlags & { name: string; format: string; out?: string }) => {
    if (!KEY_EXPORT_FORMATS.includes(flags.format as KeyExportFormat)) {
      throw new DomainError('INVALID_INPUT', `--format must be one of ${KEY_EXPORT_FORMATS.join(', ')}`);
    }
    const key = await storeFor(flags).publicKey(flags.name);
    const out = exportPublicKeyAs(key, flags.format as KeyExportFormat);
    if (flags.out) await writeFile(flags.out, out);
    else process.stdout.write(out);
  });
}
