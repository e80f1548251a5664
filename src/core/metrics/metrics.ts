/**
 * The metrics port: what the core and the transports report, as plain calls. The Prometheus implementation
 * lives in `app/metrics.ts`; everything here is cheap enough for the hot paths (a counter increment). Labels
 * must stay bounded: protocol families, products, status classes; never a device id.
 */
export type DownloadStage = 'started' | 'completed' | 'failed' | 'aborted';
export type Transport = 'http' | 'coap';

/** A product and the version its devices run, as the device registry last wrote them. */
export interface RunningVersion {
  product: string | null;
  version: string | null;
}

export interface Metrics {
  /** One answered request; `status` is the HTTP status or the CoAP code as class × 100 + detail (2.05 → 205). */
  request(transport: Transport, family: string, status: number): void;
  checkIn(protocol: string, product: string): void;
  download(protocol: string, product: string, stage: DownloadStage): void;
  bytesServed(protocol: string, product: string, bytes: number): void;
  notify(result: 'ok' | 'error' | 'timeout'): void;
  blobCache(hit: boolean): void;
  /** A write-behind flush finished after `seconds`. */
  flushed(seconds: number): void;
  /** Check-ins or events the write-behind queue dropped, oldest first, because it was full (ADR 0001). */
  writeBehindDropped(count: number): void;
  /**
   * A device's running version changed in the registry (a new device: `from` undefined; a removed one: `to`
   * undefined). Keeps the devices-per-version gauge without a scan per scrape.
   */
  deviceMoved(from: RunningVersion | undefined, to: RunningVersion | undefined): void;
}

const nothing = () => undefined;

/** For tests and tools that run the core without a metrics endpoint. */
export const noMetrics: Metrics = {
  request: nothing,
  checkIn: nothing,
  download: nothing,
  bytesServed: nothing,
  notify: nothing,
  blobCache: nothing,
  flushed: nothing,
  writeBehindDropped: nothing,
  deviceMoved: nothing,
};
