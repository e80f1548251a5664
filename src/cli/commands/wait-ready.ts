import type { Command } from 'commander';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { resolveConfig, type Config } from '../../config/config.js';

/** Where this host reaches its own server: a wildcard bind is reached on loopback. */
export function readyUrl(config: Config): string {
  const host = ['::', '0.0.0.0', ''].includes(config.host) ? '127.0.0.1' : config.host;
  const literal = host.includes(':') ? `[${host}]` : host;
  return `${config.tlsCert ? 'https' : 'http'}://${literal}:${config.httpPort}/readyz`;
}

function probe(url: string): Promise<number> {
  return new Promise((resolve) => {
    // Our own server on this host: its certificate may well be one no CA signed, and nothing secret is sent.
    const request = (url.startsWith('https:') ? httpsGet : httpGet)(
      url,
      { rejectUnauthorized: false, timeout: 2000 },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(0));
  });
}

/**
 * `updraft wait-ready`: waits until the server's `/readyz` answers 200 (systemd's ExecStartPost, container
 * health checks, scripts). Reads the same configuration as `serve` to find the port.
 */
export function registerWaitReady(program: Command): void {
  program
    .command('wait-ready')
    .description('wait until the local server answers /readyz with 200 (for systemd ExecStartPost)')
    .option('--config <file>', 'the configuration serve uses (env UPDRAFT_CONFIG)')
    .option('--url <url>', 'the readiness URL (default: from the configuration, on loopback)')
    .option('--timeout <seconds>', 'give up after this long', '60')
    .action(async (o: { config?: string; url?: string; timeout: string }) => {
      const url = o.url ?? readyUrl(resolveConfig({}, process.env, o.config).config);
      const deadline = Date.now() + Number(o.timeout) * 1000;
      for (;;) {
        if ((await probe(url)) === 200) return;
        if (Date.now() > deadline) {
          process.stderr.write(`updraft: ${url} not ready after ${o.timeout} s\n`);
          process.exit(1);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    });
}
