export type ReleaseState = 'draft' | 'published' | 'revoked';

export interface Product {
  name: string;
  description: string;
  /** Free text such as `esp8266`, `esp32`, `esp-at`, `riot`, `stm32`; adapters use it only for defaults. */
  deviceFamily: string;
  hardwareClass: string | null;
  /**
   * Per-product options the protocol adapters read (device auth, signing key...). Kept as an open record so a
   * new adapter does not need a migration; each adapter validates its own keys.
   */
  settings: Record<string, unknown>;
  createdAt: string;
}

export interface Artifact {
  /** The file's role within the release: `firmware.bin`, `slot0`, `spiffs`, `manifest`... */
  name: string;
  size: number;
  sha256: string;
  md5: string;
  /**
   * SHA-1 (hex), for hawkBit DDI clients that verify nothing else (SWUpdate, rauc-hawkbit-updater). Computed at
   * upload; migration 0003 adds the column and start-up fills it for artifacts stored before (storage/sql
   * backfill-sha1.ts). Optional only for records made before that ran.
   */
  sha1?: string;
  contentType: string;
  /**
   * The digest a device reports for this image when it is not the file's SHA-256: for ESP-IDF app images, the
   * SHA-256 appended over `image[:-32]` (`x-ESP32-sketch-sha256`). Computed at publish; absent otherwise.
   */
  imageSha256?: string;
}

export interface Release {
  id: string;
  product: string;
  /** Normalised (`1.2` → `1.2.0`, `v2.2.0.0` → `2.2.0.0`) or an opaque name as given; unique per product. */
  version: string;
  /** The version as the operator or a drop-in layout spelled it (`v1.0.1`), when that differs. */
  label: string | null;
  notes: string;
  state: ReleaseState;
  createdAt: string;
  publishedAt: string | null;
  revokedAt: string | null;
  artifacts: Artifact[];
}

export interface NewProduct {
  name: string;
  description?: string;
  deviceFamily?: string;
  hardwareClass?: string | null;
  settings?: Record<string, unknown>;
}

export type ProductPatch = Partial<Omit<NewProduct, 'name'>>;
