import { join } from 'node:path';
import { startProcess, waitFor, type Proc } from './proc.js';
import { ROOT, serverNodeFlags } from './updraft.js';

/** The bare servers under bench/floor/: what Node.js itself costs for the same answer, measured in the same run. */
export type Floor = 'http-304' | 'fastify-304' | 'coap-block';

/**
 * Starts `bench/floor/<floor>.mjs` with the node flags Updraft's launcher line passes (so the floor and Updraft
 * run the same V8 configuration) and waits until it says it listens.
 */
export async function startFloor(floor: Floor, args: string[]): Promise<Proc> {
  const script = join(ROOT, 'bench/floor', `${floor}.mjs`);
  const proc = startProcess(floor, process.execPath, [...(await serverNodeFlags()), script, ...args], {
    cwd: ROOT,
  });
  await waitFor(`${floor} to listen`, async () => {
    if (proc.exited()) throw new Error(`${floor} exited: ${proc.output()}`);
    return proc.output().includes('listening');
  });
  return proc;
}
