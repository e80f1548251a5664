import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The SUIT test vectors (public IETF examples and RIOT-generated manifests; see test/fixtures/suit/README.md). */
export const SUIT_FIXTURES = new URL('../fixtures/suit/', import.meta.url);

export function fixture(path: string): Buffer {
  return readFileSync(new URL(path, SUIT_FIXTURES));
}

export interface ExampleEnvelope {
  example: number;
  /** The "Total size of ..." line above the hex, which says what the envelope carries. */
  title: string;
  signed: boolean;
  bytes: Buffer;
}

/**
 * exampleN.txt (suit-wg/manifest-spec examples/) holds the diagnostic notation, then each envelope as hex in a
 * `~~~` block preceded by a "Total size of Envelope ..." line.
 */
export function ietfExamples(): ExampleEnvelope[] {
  const out: ExampleEnvelope[] = [];
  for (let example = 0; example <= 5; example++) {
    const text = fixture(`ietf-draft37/example${example}.txt`).toString('utf8');
    const re = /^(Total size of [^\n]*?):\s*(\d+)\s*\n[\s\S]*?~~~\n([0-9a-f\n]+)~~~/gm;
    for (const m of text.matchAll(re)) {
      const title = m[1] ?? '';
      const bytes = Buffer.from((m[3] ?? '').replace(/\n/g, ''), 'hex');
      if (bytes.length !== Number(m[2])) throw new Error(`example${example}: size line says ${m[2]}`);
      out.push({ example, title, signed: /with COSE authentication object/.test(title), bytes });
    }
  }
  return out;
}

/** A scratch directory for files handed to openssl; removed by the returned cleanup. */
export function scratch(): {
  dir: string;
  write: (name: string, data: Buffer | string) => string;
  done: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'updraft-suit-'));
  return {
    dir,
    write: (name, data) => {
      const path = join(dir, name);
      writeFileSync(path, data);
      return path;
    },
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function openssl(args: string[]): { status: number | null; output: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
