import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument, type Pair } from 'yaml';

/** `http-port`, `http_port` and `httpPort` all name the option `httpPort`. */
const camel = (key: string) => key.replace(/[-_]([a-z0-9])/g, (_, c: string) => c.toUpperCase());
/** Flag spellings that differ from the option's name (`--data`). */
const ALIASES: Record<string, string> = { data: 'dataDir' };
export const kebab = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/**
 * Reads a YAML configuration file: one flat mapping of option names (as in docs/configuration.md, kebab-case)
 * to values. Values are handed to the option's own parser as text, so a file, the environment and a flag are
 * validated by the same code. Unknown keys, nesting where none is expected and YAML errors name the line.
 */
export function readConfigFile<K extends string>(
  path: string,
  keys: readonly K[],
): Map<K, { value: string; line: number }> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`config file ${path}: ${(err as Error).message}`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const lineOf = (offset: number | undefined) => (offset === undefined ? 0 : lines.linePos(offset).line);
  const problem = doc.errors[0];
  if (problem)
    throw new Error(`${path}:${problem.linePos?.[0]?.line ?? 0}: ${problem.message.split('\n')[0]}`);
  const out = new Map<K, { value: string; line: number }>();
  if (doc.contents === null) return out;
  if (!isMap(doc.contents)) throw new Error(`${path}:1: expected a mapping of option: value`);
  const known = new Set<string>(keys);
  for (const pair of doc.contents.items as Pair[]) {
    const keyNode = pair.key;
    const line = lineOf(isScalar(keyNode) ? keyNode.range?.[0] : undefined);
    const name = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
    const key = ALIASES[name] ?? camel(name);
    if (!known.has(key)) {
      throw new Error(`${path}:${line}: unknown key "${name}" (options: docs/configuration.md)`);
    }
    const node = pair.value;
    let value: string;
    if (isScalar(node)) value = node.value === null ? '' : String(node.value);
    else if (isMap(node)) {
      // A mapping becomes the `name=value,name=value` form the option takes from the environment.
      value = (node.items as Pair[])
        .map(
          (p) =>
            `${String(isScalar(p.key) ? p.key.value : p.key)}=${String(isScalar(p.value) ? p.value.value : p.value)}`,
        )
        .join(',');
    } else throw new Error(`${path}:${line}: "${name}" takes a single value`);
    out.set(key as K, { value, line });
  }
  return out;
}
