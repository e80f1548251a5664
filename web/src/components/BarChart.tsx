import { plural } from '../format';
import type { ReleaseState } from '../types';

export interface Bar {
  label: string;
  value: number;
  /** Colours the bar; tests and CSS read it from `data-state`. */
  state?: ReleaseState | 'unknown';
}

interface Props {
  id: string;
  title: string;
  bars: Bar[];
  /** "device", "check-in": used in the accessible text. */
  unit: string;
  empty: string;
}

const ROW = 44;
/** Whether the bar's state adds something its label does not already say. */
const stateNote = (bar: Bar) => bar.state !== undefined && bar.state !== 'unknown' && bar.state !== bar.label;

/** Describes every bar, so a screen reader (and a test) reads the numbers the picture shows. */
export const describe = (title: string, bars: Bar[], unit: string) =>
  `${title}: ${bars.map((b) => `${b.label}${stateNote(b) ? ` (${b.state})` : ''}: ${plural(b.value, unit)}`).join('; ')}`;

/**
 * A horizontal bar chart in plain SVG: the label above each bar, the value after it. Widths are percentages and
 * text keeps its pixel size, so the chart stays readable from a phone to a wide screen.
 */
export function BarChart({ id, title, bars, unit, empty }: Props) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  return (
    <figure class="chart" id={id}>
      <figcaption>{title}</figcaption>
      {bars.length === 0 ? (
        <p class="muted">{empty}</p>
      ) : (
        <svg role="img" aria-label={describe(title, bars, unit)} width="100%" height={bars.length * ROW}>
          {bars.map((bar, i) => {
            const width = (bar.value / max) * 82;
            return (
              <g key={bar.label} data-label={bar.label} data-value={bar.value} data-state={bar.state}>
                <title>{`${bar.label}: ${plural(bar.value, unit)}`}</title>
                <text x="0" y={i * ROW + 14} class="chart-label">
                  {bar.label}
                  {stateNote(bar) && <tspan class="chart-state"> · {bar.state}</tspan>}
                </text>
                <rect
                  x="0"
                  y={i * ROW + 20}
                  width={`${Math.max(width, 0.5)}%`}
                  height="16"
                  rx="3"
                  class={`bar bar-${bar.state ?? 'default'}`}
                />
                <text x={`${width + 1.5}%`} y={i * ROW + 33} class="chart-value">
                  {bar.value.toLocaleString()}
                </text>
              </g>
            );
          })}
        </svg>
      )}
    </figure>
  );
}
