import { describe } from './BarChart';

interface Props {
  id: string;
  title: string;
  /** `YYYY-MM-DDTHH` (UTC) → count, oldest first. */
  hours: { hour: string; count: number }[];
}

const HEIGHT = 140;
const AXIS = 20;

/** Local "14:00" for a UTC `YYYY-MM-DDTHH` bucket. */
const hourLabel = (hour: string) =>
  new Date(`${hour}:00:00Z`).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });

/** Fills the hours the server had no check-in for, so the chart always shows the whole window. */
export function lastHours(
  counts: { hour: string; count: number }[],
  n: number,
  now = new Date(),
): { hour: string; count: number }[] {
  const byHour = new Map(counts.map((c) => [c.hour, c.count]));
  const end = Math.floor(now.getTime() / 3_600_000);
  return Array.from({ length: n }, (_, i) => {
    const hour = new Date((end - n + 1 + i) * 3_600_000).toISOString().slice(0, 13);
    return { hour, count: byHour.get(hour) ?? 0 };
  });
}

/** Check-ins per hour as vertical SVG bars; x positions are percentages so the chart fills any width. */
export function HourlyChart({ id, title, hours }: Props) {
  const max = Math.max(1, ...hours.map((h) => h.count));
  const slot = 100 / Math.max(1, hours.length);
  const bars = hours.map((h) => ({ label: hourLabel(h.hour), value: h.count }));
  return (
    <figure class="chart" id={id}>
      <figcaption>{title}</figcaption>
      <svg role="img" aria-label={describe(title, bars, 'check-in')} width="100%" height={HEIGHT + AXIS}>
        <text x="0" y="12" class="chart-value">
          max {max.toLocaleString()}
        </text>
        {hours.map((h, i) => {
          const height = (h.count / max) * (HEIGHT - 20);
          return (
            <g key={h.hour} data-label={h.hour} data-value={h.count}>
              <title>{`${hourLabel(h.hour)}: ${h.count.toLocaleString()}`}</title>
              <rect
                x={`${i * slot + slot * 0.15}%`}
                y={HEIGHT - height}
                width={`${slot * 0.7}%`}
                height={Math.max(height, 1)}
                class="bar bar-default"
              />
              {i % 6 === 0 && (
                <text x={`${i * slot}%`} y={HEIGHT + 15} class="chart-axis">
                  {hourLabel(h.hour)}
                </text>
              )}
            </g>
          );
        })}
        <line x1="0" x2="100%" y1={HEIGHT} y2={HEIGHT} class="chart-baseline" />
      </svg>
    </figure>
  );
}
