/**
 * hawkBit DDI JSON in and out (../shared/specs/device-protocols.md §6.3). Clients' JSON is parsed leniently, as
 * hawkBit's Jackson does (`ignoreUnknown`) and more: SWUpdate builds its feedback with printf (§6.6), so `id` is an
 * int, `progress.cnt` may exceed `of`, and an error text with a newline puts a raw newline inside a JSON string.
 */

/** Escapes raw control characters inside JSON strings (and only there), then parses. */
export function parseLenientJson(text: string): unknown {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      if (c === '\\') {
        out += c + (text[i + 1] ?? '');
        i++;
        continue;
      }
      if (c === '"') inString = false;
      else if (c < ' ') {
        out +=
          c === '\n'
            ? '\\n'
            : c === '\r'
              ? '\\r'
              : c === '\t'
                ? '\\t'
                : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
        continue;
      }
    } else if (c === '"') inString = true;
    out += c;
  }
  return JSON.parse(out);
}

export type Execution =
  'closed' | 'proceeding' | 'canceled' | 'scheduled' | 'rejected' | 'resumed' | 'downloaded' | 'download';
const EXECUTIONS: readonly string[] = [
  'closed',
  'proceeding',
  'canceled',
  'scheduled',
  'rejected',
  'resumed',
  'downloaded',
  'download',
];
export type Finished = 'success' | 'failure' | 'none';

export interface Feedback {
  execution: Execution;
  finished: Finished;
  progress?: { cnt: number; of: number };
  code?: number;
  details: string[];
}

const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** DdiActionFeedback; returns a message for what cannot be understood (→ 400). */
export function parseFeedback(body: unknown): Feedback | string {
  const status = obj(obj(body)?.status);
  if (!status) return 'feedback needs a "status" object';
  const execution = typeof status.execution === 'string' ? status.execution.toLowerCase() : '';
  if (!EXECUTIONS.includes(execution)) {
    return `status.execution must be one of ${EXECUTIONS.join(', ')}`;
  }
  const result = obj(status.result);
  const finishedRaw = typeof result?.finished === 'string' ? result.finished.toLowerCase() : 'none';
  if (!['success', 'failure', 'none'].includes(finishedRaw)) {
    return 'status.result.finished must be success, failure or none';
  }
  const progressRaw = obj(result?.progress);
  const cnt = Number(progressRaw?.cnt);
  const of = Number(progressRaw?.of);
  const details = Array.isArray(status.details)
    ? status.details.map((d) => (typeof d === 'string' ? d : JSON.stringify(d)))
    : typeof status.details === 'string'
      ? [status.details]
      : [];
  const code = Number(status.code);
  return {
    execution: execution as Execution,
    finished: finishedRaw as Finished,
    ...(progressRaw && Number.isFinite(cnt) && Number.isFinite(of) ? { progress: { cnt, of } } : {}),
    ...(status.code !== undefined && Number.isInteger(code) ? { code } : {}),
    details,
  };
}

export type ConfigMode = 'merge' | 'replace' | 'remove';

/** DdiConfigData: `data` values become device attributes (strings; numbers and booleans are accepted as text). */
export function parseConfigData(body: unknown): { mode: ConfigMode; data: Record<string, string> } | string {
  const root = obj(body);
  if (!root) return 'configData must be a JSON object';
  const mode = root.mode === undefined ? 'merge' : root.mode;
  if (mode !== 'merge' && mode !== 'replace' && mode !== 'remove') {
    return 'mode must be merge, replace or remove';
  }
  const data = obj(root.data);
  if (!data) return 'configData needs a "data" object';
  const out: Record<string, string> = {};
  const entries = Object.entries(data);
  if (entries.length > 100) return 'at most 100 attributes';
  for (const [key, value] of entries) {
    if (!/^[\w.:-]{1,128}$/.test(key))
      return `attribute name "${key.slice(0, 40)}" is not 1-128 of [A-Za-z0-9_.:-]`;
    if (!['string', 'number', 'boolean'].includes(typeof value)) return `attribute "${key}" must be a string`;
    const text = String(value);
    if (text.length > 512) return `attribute "${key}" is longer than 512 characters`;
    out[key] = text;
  }
  return { mode, data: out };
}

/** One line of history from a feedback (bounded: clients may send whole install logs). */
export function feedbackDetail(f: Feedback): string {
  const head = `${f.execution}/${f.finished}${f.progress ? ` ${f.progress.cnt}/${f.progress.of}` : ''}${
    f.code !== undefined ? ` code ${f.code}` : ''
  }`;
  const text = [head, ...f.details].join(': ');
  return text.length > 2000 ? `${text.slice(0, 1997)}...` : text;
}
