/**
 * Resolves once `condition()` is true, checking on a short timer, or rejects with `what` at
 * the deadline. For state that has no event to wait on (e.g. an alarm raised asynchronously).
 */
export async function eventually(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
