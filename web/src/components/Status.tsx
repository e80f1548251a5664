import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

export const Loading = () => (
  <p class="muted" role="status">
    Loading…
  </p>
);

export const ErrorMessage = ({ error }: { error: Error | undefined }) =>
  error ? (
    <p class="error" role="alert">
      {error.message}
    </p>
  ) : null;

export const StateBadge = ({ state }: { state: string }) => (
  <span class={`badge badge-${state}`}>{state}</span>
);

/** A titled card; its heading names the region. */
export function Section({ title, children }: { title: string; children: ComponentChildren }) {
  const id = useId();
  return (
    <section class="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}
