import { useEffect } from 'preact/hooks';

/** Calls `tick` every `ms` while the page is shown: pages that follow a live rollout refresh this way. */
export function useInterval(tick: () => void, ms: number): void {
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') tick();
    }, ms);
    return () => clearInterval(timer);
  }, [tick, ms]);
}
