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
  /**
   * `signal` is aborted when the device's deadline passes or the caller went away: the exchange must stop
   * there (no retransmission, and never a trigger after the slot query of a device already reported).
   */
  notify(device: string, target: NotifyTarget, signal: AbortSignal): Promise<NotifyOutcome>;
}

export interface NotifyLimits {
  /** Devices handled at the same time, over all requests together. */
  concurrency: number;
  /** Per device, for the whole exchange (slot query and trigger), ms. */
  timeoutMs: number;
}

/**
 * A bound on outgoing CoAP shared by every notify request (issue 13, defect 10): at most `concurrency`
 * exchanges at once and `maxQueued` devices waiting, whichever request they came from.
 */
export function createNotifyBudget(concurrency: number, maxQueued: number) {
  let active = 0;
  let queued = 0;
  const waiting: (() => void)[] = [];
  return {
    /** Reserves room for `n` more devices; false when the server already has too many waiting. */
    reserve(n: number): boolean {
      if (queued + n > maxQueued) return false;
      queued += n;
      return true;
    },
    release(n: number): void {
      queued -= n;
    },
    async run<T>(job: () => Promise<T>): Promise<T> {
      if (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
      active++;
      try {
        return await job();
      } finally {
        active--;
        waiting.shift()?.();
      }
    },
  };
}

export type NotifyBudget = ReturnType<typeof createNotifyBudget>;

/**
 * Runs `notify` for every device within the shared budget (at most its concurrency at a time, over all
 * requests); results keep the input order. When `cancel` is aborted (the caller disconnected) nothing more is
 * sent: exchanges in flight stop and the devices not yet reached are reported `error`, `cancelled`.
 */
export async function notifyDevices(
  devices: readonly string[],
  notify: (device: string, signal: AbortSignal) => Promise<NotifyOutcome>,
  limits: Pick<NotifyLimits, 'timeoutMs'> & { budget: NotifyBudget; cancel?: AbortSignal },
): Promise<NotifyResult[]> {
  const cancelled: NotifyOutcome = { status: 'error', message: 'cancelled: the caller went away' };
  return Promise.all(
    devices.map((device) =>
      limits.budget.run(async () => {
        if (limits.cancel?.aborted) return { device, ...cancelled };
        return { device, ...(await withDeadline((s) => notify(device, s), limits.timeoutMs, limits.cancel)) };
      }),
    ),
  );
}

/** Runs one exchange with a deadline that really ends it: the signal handed to `run` is aborted then. */
async function withDeadline(
  run: (signal: AbortSignal) => Promise<NotifyOutcome>,
  ms: number,
  cancel: AbortSignal | undefined,
): Promise<NotifyOutcome> {
  const controller = new AbortController();
  const onCancel = () => controller.abort();
  cancel?.addEventListener('abort', onCancel, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<NotifyOutcome>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ status: 'timeout', message: `no answer within ${ms} ms` });
    }, ms);
  });
  try {
    return await Promise.race([
      run(controller.signal).catch((err: unknown) => ({
        status: 'error' as const,
        message: (err as Error).message,
      })),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
    cancel?.removeEventListener('abort', onCancel);
  }
}
