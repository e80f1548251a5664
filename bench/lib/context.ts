import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freeTcpPort, freeUdpPort } from './proc.js';
import { prefillDevices } from './prefill.js';
import { publish, startUpdraft, type Updraft, type UpdraftOptions } from './updraft.js';

export interface Image {
  name: string;
  product: string;
  bytes: Buffer;
  sha256: string;
  file: string;
}

/** The version every bench product publishes; devices in the check-in cases report it (→ 304). */
export const PUBLISHED = '2.0.0';
export const OLDER = '1.0.0';

/** Shared by the cases of one run: settings, scratch folder, images, and prepared data folders. */
export class Context {
  /** `huge` (64 MiB) is above the blob cache's per-image limit (32 MiB): always streamed from disk. */
  readonly images: { small: Image; large: Image; huge: Image };
  readonly #dataDirs = new Map<string, Promise<string>>();

  constructor(
    readonly runs: number,
    readonly seconds: number,
    readonly work: string,
    readonly profileDir: string | undefined,
    readonly fromSources = false,
  ) {
    this.images = {
      small: this.#image('fw1m', 1024 * 1024),
      large: this.#image('fw16m', 16 * 1024 * 1024),
      huge: this.#image('fw64m', 64 * 1024 * 1024),
    };
  }

  #image(product: string, size: number): Image {
    const bytes = randomBytes(size);
    bytes[0] = 0xe9; // ESP image magic, as a device would upload
    return {
      name: `${product}.bin`,
      product,
      bytes,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      file: join(this.work, `${product}.bin`),
    };
  }

  async init(): Promise<void> {
    await mkdir(this.work, { recursive: true });
    for (const image of Object.values(this.images)) await writeFile(image.file, image.bytes);
  }

  /**
   * A data folder with both images published as PUBLISHED and `devices` devices in the registry (the server is
   * started to migrate and publish, stopped, then SQLite is filled directly). Prepared once per device count.
   */
  dataDir(devices: number): Promise<string> {
    const key = String(devices);
    let pending = this.#dataDirs.get(key);
    if (!pending) {
      pending = (async () => {
        const dir = join(this.work, `data-${devices}`);
        await rm(dir, { recursive: true, force: true });
        const server = await this.updraft({ name: `prepare-${devices}`, dataDir: dir, coap: false });
        try {
          for (const image of Object.values(this.images)) {
            await publish(server, image.product, PUBLISHED, image.bytes);
          }
        } finally {
          await server.stop();
        }
        const ms = prefillDevices(join(dir, 'updraft.db'), devices, this.images.small.product, PUBLISHED);
        console.log(`  prepared ${dir}: ${devices} devices inserted in ${ms} ms`);
        return dir;
      })();
      this.#dataDirs.set(key, pending);
    }
    return pending;
  }

  /**
   * A copy of `dataDir(devices)` for one server: SQLite serves one process (`serve` holds `<db>.lock`), so servers
   * that run side by side need their own folder. Make the copies before any server starts on the original.
   */
  async privateDataDir(devices: number, name: string): Promise<string> {
    const source = await this.dataDir(devices);
    const dir = join(this.work, `data-${devices}-${name}`);
    await rm(dir, { recursive: true, force: true });
    await cp(source, dir, { recursive: true, filter: (path) => !path.endsWith('.lock') });
    return dir;
  }

  async updraft(o: {
    name: string;
    dataDir: string;
    coap?: boolean;
    workers?: number;
    accelRedirectPrefix?: string;
    extraArgs?: string[];
    env?: Record<string, string>;
  }): Promise<Updraft> {
    const options: UpdraftOptions = {
      name: o.name,
      dataDir: o.dataDir,
      httpPort: await freeTcpPort(),
      coapPort: o.coap ? await freeUdpPort() : -1,
      workers: o.workers,
      accelRedirectPrefix: o.accelRedirectPrefix,
      fromSources: this.fromSources,
      cpuProfDir: this.profileDir ? join(this.profileDir, o.name) : undefined,
      extraArgs: o.extraArgs,
      env: o.env,
    };
    return startUpdraft(options);
  }
}

/** The numbers of a result, rounded, for the progress log. */
function brief(r: unknown): string {
  if (typeof r !== 'object' || r === null) return String(r);
  return Object.entries(r)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => `${k}=${Math.round((v as number) * 100) / 100}`)
    .join(' ');
}

/**
 * Runs `configs` round-robin `runs` times (run 1 of each, then run 2 of each...), so slow drifts of a shared
 * machine hit every configuration alike.
 */
export async function interleave<T>(
  runs: number,
  configs: { key: string; run: (i: number) => Promise<T> }[],
): Promise<Map<string, T[]>> {
  const out = new Map<string, T[]>(configs.map((c) => [c.key, []]));
  for (let i = 0; i < runs; i++) {
    for (const c of configs) {
      const r = await c.run(i);
      out.get(c.key)?.push(r);
      console.log(`  run ${i + 1}/${runs} ${c.key}: ${brief(r)}`);
    }
  }
  return out;
}
