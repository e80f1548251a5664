/**
 * A drop-folder layout recognises files of one seed server's folder and says which release they belong to.
 * Paths are relative to the drop folder, with `/` separators.
 */
export interface LayoutMatch {
  product: string;
  /** As spelled in the file name; the catalog normalises it and keeps the spelling as the label. */
  version: string;
  artifact: string;
  deviceFamily?: string;
}

export interface DropLayout {
  name: string;
  match(relativePath: string): LayoutMatch | undefined;
}

/** `<product>-<version>.bin` at the top level (the ESP8266 httpUpdate seed): `firmware-0.1.bin`. */
export const productVersionLayout: DropLayout = {
  name: 'product-version',
  match(path) {
    const m =
      /^([A-Za-z0-9_][A-Za-z0-9_.]*?)-(v?\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)\.bin$/.exec(
        path,
      );
    if (!m || path.includes('/')) return undefined;
    return { product: m[1] as string, version: m[2] as string, artifact: 'firmware.bin' };
  },
};

/** Further layouts (ESP-AT `partitions/`, simple-polling `firmware/`, STM32 `updates/`) register here. */
export const dropLayouts: DropLayout[] = [productVersionLayout];
