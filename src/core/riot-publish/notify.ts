/**
 * Telling RIOT devices to update (seeds.md §1.4, device-protocols.md §4.1): protocol-neutral orchestration over
 * a port the CoAP transport implements. The seed handled devices one after another and let one unreachable
 * device fail the whole request (§1.8); here they are handled concurrently, with a bound, each with a deadline,
 * and every device gets its own result.
 */

export type NotifyStatus = 'ok' | 'error' | 'timeout';

export interface NotifyOutcome {
  status: NotifyStatus;
  /** The device's response code, `2.04` style, when it answered. */
  code?: string;
  message?: string;
}

export interface NotifyResult extends NotifyOutcome {
  /** The device as the operator wrote it (`[fd00::2]`, `[fd00::2]:5683`). */
  device: string;
}

/**
 * Which manifest URL to send: one for every device, or one per riotboot slot, chosen by the slot the device
 * reports as inactive (the seed's v1 flow).
 */
export type NotifyTarget =
  | { kind: 'single'; manifestUrl: string }
  | { kind: 'per-slot'; manifestUrls: readonly [string | undefined, string | undefined] };

/** The port: reaching one device. */
export interface SuitDevices {
  /** `undefined` when `device` is not a `host[:port]` (IPv6 in brackets) the transport can reach. */
  address(device: string): string | undefined;
  notify(device: string, target: NotifyTarget): Promise<NotifyOutcome>;
}

export interface NotifyLimits {
  /** Devices handled at the same time. */
  concurrency: number;
  /** Per device, for the whole exchange (slot query and trigger), ms. */
  timeoutMs: number;
}

/** Runs `notify` for every device, at most `concurrency` at a time; results keep the input order. */
export async function notifyDevices(
  devices: readonly string[],
  notify: (device: string) => Promise<NotifyOutcome>,
  limits: NotifyLimits,
): Promise<NotifyResult[]> {
  const results: NotifyResult[] = new Array(devices.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < devices.length; i = next++) {
      const device = devices[i] as string;
      results[i] = { device, ...(await withDeadline(() => notify(device), limits.timeoutMs)) };
    }
  };
  const workers = Math.max(1, Math.min(limits.concurrency, devices.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}

async function withDeadline(run: () => Promise<NotifyOutcome>, ms: number): Promise<NotifyOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<NotifyOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'timeout', message: `no answer within ${ms} ms` }), ms);
  });
  try {
    return await Promise.race([
      run().catch((err: unknown) => ({ status: 'error' as const, message: (err as Error).message })),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
