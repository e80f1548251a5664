import { isValidName } from '../../core/names.js';
import { compareVersions } from '../../core/versions/compare.js';
import { artifactNameOfType, TYPE_APP } from '../coap/adapters/stm32-protocol.js';

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
  /** `false`: import as a draft, not offered to devices (default true). Re-evaluated on every scan. */
  publish?: boolean;
}

/** Read access to small side files of the folder, for layouts whose meaning depends on one. */
export interface DropFolderView {
  readText(relativePath: string): string | undefined;
}

export interface DropLayout {
  name: string;
  /** A release file, `'auxiliary'` for a side file the layout reads (imported as nothing, not warned about). */
  match(relativePath: string, folder: DropFolderView): LayoutMatch | 'auxiliary' | undefined;
}

/**
 * `<product>-<version>.bin` at the top level (the ESP8266 httpUpdate seed): `firmware-0.1.bin`, and four-part
 * versions (`firmware-1.2.0.0.bin`) as everywhere else (docs/versions.md). An opaque name cannot be told apart
 * from the product here (both may contain `-`), so it is not one of this layout's versions.
 */
export const productVersionLayout: DropLayout = {
  name: 'product-version',
  match(path) {
    const m =
      /^([A-Za-z0-9_][A-Za-z0-9_.]*?)-(v?\d+(?:\.\d+){0,3}(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)\.bin$/.exec(
        path,
      );
    if (!m || path.includes('/')) return undefined;
    return { product: m[1] as string, version: m[2] as string, artifact: 'firmware.bin' };
  },
};

/**
 * `partitions/<version>/<file>` (the ESP-AT seed, devtank webserver.py, which serves
 * `os.path.join("partitions", version, filename)`): product `esp-at`, one artifact per file (`ota.bin`,
 * `mqtt_ca.bin`...), named as the device asks for it.
 */
export const espAtLayout: DropLayout = {
  name: 'esp-at',
  match(path) {
    const m = /^partitions\/([^/]+)\/([^/]+)$/.exec(path);
    if (!m || !isValidName(m[2] as string)) return undefined;
    return { product: 'esp-at', version: m[1] as string, artifact: m[2] as string, deviceFamily: 'esp-at' };
  },
};

const SIMPLE_POLLING_VERSION = 'version/version.txt';

/**
 * `firmware/firmware_<version>.bin` + `version/version.txt` (the simple-polling seed, ruslan-kornich/ota_server):
 * product `simple-polling`, artifact `firmware.bin`. version.txt names the version devices should run, so
 * releases up to it are published and newer ones are imported as drafts; editing version.txt moves the line
 * on the next scan. Without version.txt every file is published.
 */
export const simplePollingLayout: DropLayout = {
  name: 'simple-polling',
  match(path, folder) {
    if (path === SIMPLE_POLLING_VERSION) return 'auxiliary';
    const m = /^firmware\/firmware_([^/]+)\.bin$/.exec(path);
    if (!m) return undefined;
    const version = m[1] as string;
    const current = folder.readText(SIMPLE_POLLING_VERSION)?.trim();
    const publish = !current || compareVersions(version, current) <= 0;
    return {
      product: 'simple-polling',
      version,
      artifact: 'firmware.bin',
      deviceFamily: 'simple-polling',
      publish,
    };
  },
};

/**
 * `updates/<PID>_<MAJOR>_<MINOR>_<BUILD>_<TYPE>[_<anything>].fmu` (the STM32 CoAP seed, firmwaremodules
 * iot-ota-server, which indexes `./updates` this way; seeds.md §4.3): product = the PID, version
 * `MAJOR.MINOR.BUILD`, artifact `type-<n>.fmu` as the CoAP `/updates` adapter asks for it. TYPE `APP` is 3 and
 * other words 0, as in the seed; a decimal TYPE (0-255) is taken as it is. Unlike the seed, a version the device
 * cannot encode (major or minor above 255, build above 65535) is skipped rather than wrapped around.
 */
export const stm32Layout: DropLayout = {
  name: 'stm32-fmu',
  match(path) {
    // The seed indexes a name only when it has exactly one dot, before `fmu`.
    const m = /^updates\/([^_./]+)_(\d+)_(\d+)_(\d+)_([^_./]+)(?:_[^./]*)?\.fmu$/.exec(path);
    if (!m) return undefined;
    const [, pid, major, minor, build, typeName] = m as unknown as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const [maj, min, bld] = [Number(major), Number(minor), Number(build)];
    if (!isValidName(pid) || maj > 255 || min > 255 || bld > 0xffff) return undefined;
    const type = typeName === 'APP' ? TYPE_APP : /^\d{1,3}$/.test(typeName) ? Number(typeName) : 0;
    if (type > 255) return undefined;
    return {
      product: pid,
      version: `${maj}.${min}.${bld}`,
      artifact: artifactNameOfType(type),
      deviceFamily: 'stm32',
    };
  },
};

export const dropLayouts: DropLayout[] = [
  productVersionLayout,
  espAtLayout,
  simplePollingLayout,
  stm32Layout,
];
