/** Time is injected so tests can move it; everything stores ISO-8601 UTC strings, which sort as text. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
export const isoNow = (clock: Clock): string => clock().toISOString();
