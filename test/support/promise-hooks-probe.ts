// Run as its own process (test/ops/audit.test.ts): Node's test runner turns promise hooks on itself, so they can
// only be observed outside it. Starts the real server, makes admin API calls that write (each audited with the
// caller), and prints whether promise hooks were on before and after, then after an AsyncLocalStorage.run (the
// control: it shows the probe sees them on this Node).
import { AsyncLocalStorage, executionAsyncResource } from 'node:async_hooks';
import { startTestServer } from './server.js';

/** With promise hooks on, the code after an `await` runs as an async resource of its own: the promise. */
async function promiseHooksOn(): Promise<boolean> {
  await null;
  return executionAsyncResource() instanceof Promise;
}

const before = await promiseHooksOn();
const server = await startTestServer();
const statuses: number[] = [];
try {
  const created = await server.api('/api/v1/products', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'probe' }),
  });
  statuses.push(created.status);
  statuses.push((await server.api('/api/v1/products/probe', { method: 'DELETE' })).status);
  statuses.push((await server.api('/api/v1/audit?target=probe')).status);
} finally {
  await server.close();
}
const after = await promiseHooksOn();
new AsyncLocalStorage().run(null, () => undefined);
const control = await promiseHooksOn();
process.stdout.write(`${JSON.stringify({ before, after, control, statuses })}\n`);
