/** How hard the client tries before it reports a failure. */
export interface RetryPolicy {
  /** Rounds over all endpoints before giving up (each round tries every endpoint once). */
  readonly maxRounds: number;
  /** First backoff between rounds; doubles each round up to maxDelayMs. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxRounds: 3, baseDelayMs: 100, maxDelayMs: 2000 };

/** Exponential backoff with "equal jitter": half fixed, half random, so retrying clients spread out. */
export function backoffDelay(policy: RetryPolicy, round: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, round));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Resolves after `ms`, or at once when the signal aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
