import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config/config.js';
import { spawnServer, tempDir } from '../support/server.js';

const run = promisify(execFile);
const cli = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env: { ...process.env, ...env },
  }).then(
    (r) => ({ ...r, code: 0 }),
    (err: { stdout: string; stderr: string; code: number }) => err,
  );

describe('configuration file', () => {
  let dir: string;
  const file = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };
  before(async () => {
    dir = await tempDir('updraft-config-');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('defaults ← file ← environment ← flags, each value with its source', async () => {
    const path = await file(
      'updraft.yaml',
      [
        '# Updraft',
        'http-port: 9090',
        'coap_port: 5684',
        'logLevel: warn',
        'data: /srv/updraft',
        'seed-endpoints-auth: false',
        'signing-keys:',
        '  prod: /etc/updraft/prod.pem',
        '',
      ].join('\n'),
    );
    const { config, sources } = resolveConfig({ coapPort: '-1' }, { UPDRAFT_LOG_LEVEL: 'debug' }, path);
    assert.equal(config.httpPort, 9090);
    assert.equal(sources.httpPort, `${path}:2`);
    assert.equal(config.coapPort, -1, 'a flag beats the file');
    assert.equal(sources.coapPort, 'flag');
    assert.equal(config.logLevel, 'debug', 'the environment beats the file');
    assert.equal(sources.logLevel, 'env UPDRAFT_LOG_LEVEL');
    assert.equal(config.dataDir, '/srv/updraft');
    assert.equal(config.databaseUrl, 'sqlite:/srv/updraft/updraft.db');
    assert.equal(sources.databaseUrl, 'default (from dataDir)');
    assert.equal(config.seedEndpointsAuth, false);
    assert.deepEqual(config.signingKeys, { prod: { file: '/etc/updraft/prod.pem' } });
    assert.equal(sources.signingKeys, `${path}:7`);
    assert.equal(config.maxUploadBytes, 256 * 1024 * 1024);
    assert.equal(sources.maxUploadBytes, 'default');
  });

  it('refuses unknown keys, bad values and bad YAML, naming the line', async () => {
    const unknown = await file('unknown.yaml', 'http-port: 80\n\nhtp-port: 81\n');
    assert.throws(
      () => resolveConfig({}, {}, unknown),
      new RegExp(`^Error: ${unknown}:3: unknown key "htp-port"`),
    );
    const bad = await file('bad.yaml', 'host: "::"\nhttp-port: eighty\n');
    assert.throws(() => resolveConfig({}, {}, bad), new RegExp(`${bad}:2: http port must be an integer`));
    const nested = await file('nested.yaml', 'host:\n  - a\n  - b\n');
    assert.throws(() => resolveConfig({}, {}, nested), /nested\.yaml:1: "host" takes a single value/);
    const broken = await file('broken.yaml', 'http-port: [1\n');
    assert.throws(() => resolveConfig({}, {}, broken), /broken\.yaml:\d+: /);
    const twice = await file('twice.yaml', 'http-port: 1\nhttp-port: 2\n');
    assert.throws(() => resolveConfig({}, {}, twice), /twice\.yaml:2: /);
    assert.throws(
      () => resolveConfig({}, {}, join(dir, 'missing.yaml')),
      /config file .*missing\.yaml: ENOENT/,
    );
  });

  it('updraft config check prints the effective configuration, secrets masked; exit 2 on an error', async () => {
    const path = await file(
      'check.yaml',
      'admin-token: s3cret-admin\ndatabase-url: postgres://updraft:hunter2@db.example:5432/updraft\nmetrics-port: 9464\n',
    );
    const ok = await cli(['config', 'check', path], { UPDRAFT_METRICS_TOKEN: 'scrape-secret' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^option\s+value\s+source/);
    assert.match(ok.stdout, new RegExp(`metrics-port\\s+9464\\s+${path}:3`));
    assert.match(ok.stdout, /admin-token\s+\*\*\*\s/);
    assert.match(ok.stdout, /metrics-token\s+\*\*\*\s+env UPDRAFT_METRICS_TOKEN/);
    assert.match(ok.stdout, /postgres:\/\/updraft:\*\*\*@db\.example:5432\/updraft/);
    assert.ok(!/s3cret-admin|hunter2|scrape-secret/.test(ok.stdout), 'no secret printed');
    const json = await cli(['config', 'check', path, '--json']);
    const rows = JSON.parse(json.stdout) as { option: string; value: unknown; source: string }[];
    assert.deepEqual(
      rows.find((r) => r.option === 'http-port'),
      { option: 'http-port', value: 8080, source: 'default' },
    );
    const wrong = await cli(['config', 'check', await file('w.yaml', 'workers: 2\nlog-levl: info\n')]);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /w\.yaml:2: unknown key "log-levl"/);
  });

  it('updraft serve --config runs with the file (here: the metrics token it sets)', async () => {
    const data = await tempDir('updraft-config-serve-');
    const path = await file('serve.yaml', 'metrics-token: from-the-file\nlog-format: json\n');
    const server = await spawnServer(data, ['--config', path]);
    try {
      assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
      const res = await fetch(`${server.url}/metrics`, {
        headers: { Authorization: 'Bearer from-the-file' },
      });
      assert.equal(res.status, 200);
      // JSON log lines, not pino-pretty's.
      const line = server
        .output()
        .split('\n')
        .find((l) => l.includes('HTTP listening'));
      assert.ok(line && JSON.parse(line).msg === 'HTTP listening', line);
    } finally {
      await server.stop();
      await rm(data, { recursive: true, force: true });
    }
  });
});
