/** The wall clock, as a port, so activities can be tested at a fixed time. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
