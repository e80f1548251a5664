import type { Counts, DeviceState } from '../types';

/** Device states in the order a rollout moves them, each with its colour class (styles.css `.state-*`). */
export const STATE_ORDER: DeviceState[] = [
  'succeeded',
  'downloaded',
  'downloading',
  'offered',
  'pending',
  'skipped',
  'timed-out',
  'failed',
];

/**
 * One wave (or a whole deployment) as a stacked bar of its devices' states. Each segment carries its state and
 * count as data attributes and in its title, so the bar reads without colour and tests can check it.
 */
export function WaveBar({ counts, total, label }: { counts: Counts; total: number; label: string }) {
  const known = STATE_ORDER.reduce((sum, state) => sum + counts[state], 0);
  const width = Math.max(total, known, 1);
  const summary = STATE_ORDER.filter((s) => counts[s] > 0)
    .map((s) => `${counts[s]} ${s}`)
    .join(', ');
  return (
    <div class="wave-bar" role="img" aria-label={`${label}: ${summary || 'no devices yet'}`}>
      {STATE_ORDER.filter((s) => counts[s] > 0).map((state) => (
        <span
          key={state}
          class={`segment state-${state}`}
          data-state={state}
          data-count={counts[state]}
          style={{ width: `${(100 * counts[state]) / width}%` }}
          title={`${counts[state]} ${state}`}
        />
      ))}
    </div>
  );
}

export function StateLegend() {
  return (
    <ul class="legend">
      {STATE_ORDER.map((state) => (
        <li key={state}>
          <span class={`swatch state-${state}`} aria-hidden="true" /> {state}
        </li>
      ))}
    </ul>
  );
}
