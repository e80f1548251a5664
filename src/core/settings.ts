/** A small key-value port for server-wide facts (monotonic SUIT sequence numbers, first-start markers). */
export interface SettingsRepository {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  /** Every key starting with `prefix`, with its value. */
  list(prefix: string): Promise<[string, string][]>;
  delete(key: string): Promise<void>;
  /** Atomically returns max(current + 1, atLeast) and stores it: sequence numbers that only ever grow. */
  increment(key: string, atLeast: number): Promise<number>;
}
