// The system tools the test suite runs, and the Debian package each comes from: one table, so that a test that
// needs a new tool adds one line here (and `npm test` installs it on a fresh machine, see scripts/run-tests.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

/** command → Debian package, with what needs it. `check` overrides the PATH lookup. */
export const TEST_TOOLS = [
  {
    command: 'coap-client-notls',
    pkg: 'libcoap3-bin',
    why: 'CoAP tests talk to the server as a device would',
  },
  { command: 'chromium', pkg: 'chromium', why: 'dashboard tests drive a real browser' },
  { command: 'openssl', pkg: 'openssl', why: 'signing and HTTPS tests' },
  { command: 'curl', pkg: 'curl', why: "the seeds' README examples are run with curl" },
  {
    command: 'python3 requests',
    pkg: 'python3-requests',
    why: "the RIOT seed's otaclient.py requests are sent with python-requests, as it sends them",
    check: () => spawnSync('/usr/bin/python3', ['-c', 'import requests'], { stdio: 'ignore' }).status === 0,
  },
  {
    command: 'initdb',
    pkg: 'postgresql',
    why: 'a throw-away PostgreSQL when UPDRAFT_TEST_POSTGRES_URL is unset',
    check: () => postgresBinDir() !== undefined,
    onlyWhen: () => !process.env.UPDRAFT_TEST_POSTGRES_URL,
  },
  { command: 'swupdate', pkg: 'swupdate', why: 'hawkBit DDI tests run the real SWUpdate client' },
  {
    command: 'nginx',
    pkg: 'nginx-light',
    why: 'the three-replica test puts a real load balancer in front',
    check: () => onPath('nginx') || existsSync('/usr/sbin/nginx'),
  },
  { command: 'radosgw', pkg: 'radosgw', why: 'S3 tests run against a real Ceph RADOS Gateway' },
  { command: 'ceph-mon', pkg: 'ceph-mon', why: 'the throw-away Ceph cluster behind the gateway' },
  { command: 'ceph-osd', pkg: 'ceph-osd', why: 'the throw-away Ceph cluster behind the gateway' },
  { command: 'ceph', pkg: 'ceph-common', why: 'creates the gateway user and bucket' },
  { command: 'uuidgen', pkg: 'uuid-runtime', why: 'the Ceph cluster id' },
  { command: 'promtool', pkg: 'prometheus', why: 'the /metrics test checks the exposition with promtool' },
  {
    command: 'systemd-analyze',
    pkg: 'systemd',
    why: 'the service unit is checked with systemd-analyze verify',
  },
];

/** Where scripts/build-swupdate-general.sh leaves SWUpdate built with its general HTTP server module. */
const SWUPDATE_GENERAL =
  process.env.UPDRAFT_SWUPDATE_GENERAL ?? '/var/cache/updraft-swupdate-general/swupdate-general';

/**
 * Debian ships SWUpdate without the general HTTP server module: it is built once from Debian's own source package
 * (root, apt) and cached. Called after the packages are in place.
 */
export function ensureSwupdateGeneral() {
  if (existsSync(SWUPDATE_GENERAL)) return;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (root && onPath('apt-get')) {
    console.error('test tools: building SWUpdate with its general HTTP server module (once, cached)');
    const built = spawnSync('scripts/build-swupdate-general.sh', [], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (built.status === 0 && existsSync(SWUPDATE_GENERAL)) return;
  }
  console.error(
    `\nThe SWUpdate general-module tests need ${SWUPDATE_GENERAL}. Build it (as root) with:\n\n` +
      '  sudo scripts/build-swupdate-general.sh\n',
  );
  process.exit(1);
}

/** Debian's PostgreSQL binaries (`/usr/lib/postgresql/<major>/bin`), the newest major first. */
export function postgresBinDir() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((v) => existsSync(`${root}/${v}/bin/initdb`) && existsSync(`${root}/${v}/bin/pg_ctl`))
    .sort((a, b) => Number(b) - Number(a));
  return majors.length ? `${root}/${majors[0]}/bin` : undefined;
}

const onPath = (command) =>
  spawnSync('sh', ['-c', `command -v "${command}"`], { stdio: 'ignore' }).status === 0;

/** The tools (of those needed now) that are missing. */
export function missingTools() {
  return TEST_TOOLS.filter((t) => (t.onlyWhen ? t.onlyWhen() : true)).filter((t) =>
    t.check ? !t.check() : !onPath(t.command),
  );
}

function aptInstall(packages) {
  const args = ['install', '-y', '-qq', '-o', 'DPkg::Lock::Timeout=300', ...packages];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (spawnSync('apt-get', args, { stdio: 'inherit', env }).status === 0) return true;
  // A fresh machine has no package lists yet: fetch them once and try again.
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  return spawnSync('apt-get', args, { stdio: 'inherit', env }).status === 0;
}

/**
 * Makes sure every tool is there: installs the missing ones from Debian when running as root with apt, and
 * otherwise stops with the exact command to run.
 */
export function ensureTestTools() {
  const missing = missingTools();
  if (!missing.length) return;
  const packages = [...new Set(missing.map((t) => t.pkg))];
  const command = `apt-get install -y ${packages.join(' ')}`;
  for (const t of missing) console.error(`test tools: ${t.command} is missing (${t.why})`);
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (root && onPath('apt-get')) {
    console.error(`test tools: ${command}`);
    if (aptInstall(packages) && !missingTools().length) return;
    console.error('test tools: the install did not provide everything');
  }
  console.error(`\nThe test suite needs these Debian packages. Install them with:\n\n  sudo ${command}\n`);
  process.exit(1);
}
