import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { ADMIN_TOKEN, releaseForm, spawnServer } from '../support/server.js';

/**
 * kill -9 while releases are being published, again and again on the same data: afterwards every release the
 * API lists has all its artifacts, each byte-exact against its recorded sha256, and no acknowledged (201)
 * release is lost. Some uploads reuse a file an earlier release stored, so blob sharing is part of it.
 */
export const ROUNDS = 20;
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Listed {
  version: string;
  state: string;
  artifacts: { name: string; size: number; sha256: string }[];
}

/**
 * Checks every release the API lists: each artifact's last byte is served (the blob exists and has its size),
 * and the artifacts of `full` releases (new since the last check, or all of them) are downloaded whole and
 * hashed. Returns the versions listed.
 */
async function verify(url: string, round: number, full: (version: string) => boolean): Promise<Set<string>> {
  const res = await fetch(`${url}/api/v1/products/crash/releases`, { headers: auth });
  assert.equal(res.status, 200);
  const { items } = (await res.json()) as { items: Listed[] };
  for (const release of items) {
    for (const artifact of release.artifacts) {
      const where = `round ${round}: ${release.version}/${artifact.name}`;
      const path = `${url}/api/v1/products/crash/releases/${release.version}/artifacts/${artifact.name}`;
      const signal = AbortSignal.timeout(15_000);
      if (!full(release.version)) {
        const tail = await fetch(path, { headers: { ...auth, Range: 'bytes=-1' }, signal });
        assert.equal(tail.status, 206, where);
        assert.equal(
          tail.headers.get('content-range'),
          `bytes ${artifact.size - 1}-${artifact.size - 1}/${artifact.size}`,
          where,
        );
        await tail.arrayBuffer();
        continue;
      }
      const download = await fetch(path, { headers: auth, signal });
      assert.equal(download.status, 200, where);
      const bytes = Buffer.from(await download.arrayBuffer());
      assert.equal(bytes.length, artifact.size, `${where} size`);
      assert.equal(sha256(bytes), artifact.sha256, `${where} bytes`);
    }
  }
  return new Set(items.map((r) => r.version));
}

/** ROUNDS of: three concurrent publishes, kill -9 at a varying moment, restart, check everything listed. */
export async function killLoop(
  dataDir: string,
  env: Record<string, string>,
): Promise<{ acknowledged: number; listed: number }> {
  const shared = randomBytes(200_000);
  const acknowledged = new Set<string>();
  const checked = new Set<string>();
  let listed = new Set<string>();
  let next = 1;
  let server = await spawnServer(dataDir, [], env);
  const created = await fetch(`${server.url}/api/v1/products`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'crash' }),
  });
  assert.equal(created.status, 201);
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      // Three uploads at once: a fresh file, one shared with other releases, and a two-file release.
      const uploads = [0, 1, 2].map(() => {
        const version = `1.0.${next++}`;
        const files: Record<string, Buffer> =
          next % 3 === 0
            ? { 'firmware.bin': shared }
            : next % 3 === 1
              ? { 'firmware.bin': randomBytes(50_000 + ((next * 7919) % 450_000)) }
              : { 'firmware.bin': randomBytes(150_000), 'spiffs.bin': shared };
        return fetch(`${server.url}/api/v1/products/crash/releases`, {
          method: 'POST',
          headers: auth,
          body: releaseForm(version, files, { publish: 'true' }),
        }).then(
          (res) => {
            if (res.status === 201) acknowledged.add(version);
            return res.status;
          },
          () => 0, // cut by the kill
        );
      });
      await new Promise((r) => setTimeout(r, 20 + ((round * 37) % 180)));
      await server.stop('SIGKILL');
      const statuses = await Promise.all(uploads);
      for (const status of statuses) assert.ok([0, 201].includes(status), `round ${round}: ${statuses}`);

      server = await spawnServer(dataDir, [], env);
      // New releases are hashed whole at once, all of them again in the last round.
      listed = await verify(server.url, round, (v) => round === ROUNDS || !checked.has(v));
      for (const v of listed) checked.add(v);
      for (const version of acknowledged)
        assert.ok(listed.has(version), `round ${round}: acknowledged ${version} is lost`);
    }
  } finally {
    await server.stop('SIGKILL');
  }
  return { acknowledged: acknowledged.size, listed: listed.size };
}
