import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ADMIN_TOKEN, publishRelease, startTestServer, tempDir, type TestServer } from '../support/server.js';
import { httpRequest, rawRequest } from '../support/raw-http.js';
import { espImage } from './helpers.js';
import { cliCommand } from '../support/server-bundle.js';

describe('updraft tokens import / export / create --out, and basic-auth', () => {
  let server: TestServer;
  let dir: string;
  const cli = (args: string[], input?: string) =>
    new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      const child = execFile(
        process.execPath,
        [...cliCommand(), ...args],
        { env: { ...process.env, UPDRAFT_SERVER: server.url, UPDRAFT_TOKEN: ADMIN_TOKEN } },
        (err, stdout, stderr) =>
          err ? reject(Object.assign(err, { stdout, stderr })) : resolve({ stdout, stderr }),
      );
      child.stdin?.end(input ?? '');
    });
  const romVersion = async (token: string) =>
    (
      await rawRequest(
        server.httpPort,
        httpRequest([
          'GET /v1/device/rom/?is_format_simple=true HTTP/1.0',
          'Host: x:1',
          `Authorization: token ${token}`,
        ]),
      )
    ).body.toString();

  // A key file as authorisation_key_gen.py writes it: json.dumps(indent=2), no trailing newline.
  const seedKeys = JSON.stringify(
    [
      { Name: 'sensor 1', Token: 'a'.repeat(40) },
      { Name: 'short', Token: 'xyz' },
      { Name: 'sensor-2', Token: '0123456789abcdef0123456789abcdef01234567' },
      { Name: 'spaced', Token: 'two words' },
      { Name: 'copy', Token: 'a'.repeat(40) },
      { Name: 'empty', Token: null },
      { Name: 'padded', Token: ' lead' },
    ],
    null,
    2,
  );

  before(async () => {
    server = await startTestServer();
    dir = await tempDir('updraft-keys-');
    await publishRelease(
      server,
      'modules',
      '1.2.0',
      { 'ota.bin': espImage(100) },
      { deviceFamily: 'esp-at' },
    );
    await writeFile(join(dir, 'authorisation_keys.json'), seedKeys);
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('imports the seed key file without touching it, and the imported tokens authenticate', async () => {
    const file = join(dir, 'authorisation_keys.json');
    const { stdout } = await cli(['tokens', 'import', file, '--json']);
    assert.deepEqual(JSON.parse(stdout), [
      { name: 'sensor-1', result: 'imported' },
      { name: 'short', result: 'imported (not 40 hex characters: the seed accepted it)' },
      { name: 'sensor-2', result: 'imported' },
      { name: 'spaced', result: 'imported (not 40 hex characters: the seed accepted it)' },
      { name: 'copy', result: 'skipped: this token value is already registered' },
      { name: 'empty', result: 'skipped: no token' },
      // HTTP drops the space around a header value: no module could send this one.
      {
        name: 'padded',
        result: 'skipped: a device token is 1-256 visible ASCII characters, spaces only between them',
      },
    ]);
    assert.equal(await readFile(file, 'utf8'), seedKeys, 'the file read is never rewritten');
    assert.equal(await romVersion('a'.repeat(40)), '{"rom_version": "1.2.0", "status": 200}');
    assert.equal(await romVersion('xyz'), '{"rom_version": "1.2.0", "status": 200}', 'any seed key works');
    // The seed compared everything after `token ` with ==, inner spaces included.
    assert.equal(await romVersion('two words'), '{"rom_version": "1.2.0", "status": 200}');
    assert.match(await romVersion('two  words'), /403/);
    const again = JSON.parse((await cli(['tokens', 'import', file, '--json'])).stdout) as {
      result: string;
    }[];
    assert.equal(again.filter((r) => r.result === 'imported').length, 0, 'a second import adds nothing');
  });

  it('create --name refuses a name that is taken', async () => {
    // The first token by the API, the duplicate by the CLI (each CLI run costs a process start).
    const first = await server.api('/api/v1/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'admin', name: 'unique-one' }),
    });
    assert.equal(first.status, 201);
    await assert.rejects(
      cli(['tokens', 'create', '--device', '--name', 'unique-one']),
      (err: { stderr: string }) => /TOKEN_EXISTS/.test(err.stderr) && /unique-one/.test(err.stderr),
    );
    const { items } = (await (await server.api('/api/v1/tokens')).json()) as { items: { name: string }[] };
    assert.equal(items.filter((t) => t.name === 'unique-one').length, 1);
  });

  it('create --device --out adds the new token to a seed key file, keeping the other entries', async () => {
    const file = join(dir, 'authorisation_keys.json');
    const { stdout } = await cli([
      'tokens',
      'create',
      '--device',
      '--product',
      'modules',
      '--name',
      'new-one',
      '--out',
      file,
    ]);
    const token = stdout.trim();
    assert.match(token, /^[0-9a-f]{40}$/);
    const text = await readFile(file, 'utf8');
    assert.ok(!text.endsWith('\n'));
    const keys = JSON.parse(text) as { Name: string; Token: string }[];
    assert.deepEqual(keys.at(-1), { Name: 'new-one', Token: token });
    assert.equal(keys.length, 8);
    assert.equal(text, JSON.stringify(keys, null, 2));
    assert.equal(await romVersion(token), '{"rom_version": "1.2.0", "status": 200}');
  });

  it('export writes the inventory without values, and will not overwrite a file by accident', async () => {
    const out = join(dir, 'exported.json');
    await cli(['tokens', 'export', out]);
    const keys = JSON.parse(await readFile(out, 'utf8')) as {
      Name: string;
      Token: null;
      Product: string | null;
    }[];
    assert.deepEqual(keys.map((k) => k.Name).sort(), ['new-one', 'sensor-1', 'sensor-2', 'short', 'spaced']);
    assert.ok(keys.every((k) => k.Token === null));
    assert.equal(keys.find((k) => k.Name === 'new-one')?.Product, 'modules');
    await assert.rejects(cli(['tokens', 'export', join(dir, 'authorisation_keys.json')]), /exists/);
    await cli(['tokens', 'export', out, '--force']);
  });

  it('basic-auth stores an scrypt hash in the product settings, which ESP devices then need', async () => {
    await publishRelease(server, 'esp-thing', '2.0.0', { 'firmware.bin': espImage(500) });
    await cli(['basic-auth', 'esp-thing', '--username', 'dev'], 'pa55word\n');
    const product = (await (await server.api('/api/v1/products/esp-thing')).json()) as {
      settings: { httpBasicAuth: { username: string; passwordHash: string } };
    };
    assert.equal(product.settings.httpBasicAuth.username, 'dev');
    assert.match(product.settings.httpBasicAuth.passwordHash, /^scrypt\$16384\$8\$1\$/);
    const esp = (auth: string[]) =>
      rawRequest(
        server.httpPort,
        httpRequest([
          'GET /esp-thing HTTP/1.0',
          'Host: x',
          ...auth,
          'x-ESP8266-STA-MAC: 02:00:00:00:00:AA',
          'x-ESP8266-mode: sketch',
        ]),
      );
    assert.equal((await esp([])).status, 401);
    const basic = `Authorization: Basic ${Buffer.from('dev:pa55word').toString('base64')}`;
    assert.equal((await esp([basic])).status, 200);
    await cli(['basic-auth', 'esp-thing', '--off']);
    assert.equal((await esp([])).status, 200);
  });
});
