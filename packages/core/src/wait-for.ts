/**
 * Polls `check` every `everyMs` until it returns something other than
 * `undefined` or `false`, and resolves with that. Past `timeoutMs` it throws
 * the error `timedOut` builds (which may describe the last state seen), so
 * every wait for a process, a server or a record is bounded. Real time: a
 * virtual clock does not move while we wait for a real process.
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  o: { timeoutMs: number; everyMs: number; timedOut: () => Error | Promise<Error> },
): Promise<T> {
  const deadline = performance.now() + o.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) throw await o.timedOut();
    await new Promise((r) => setTimeout(r, o.everyMs));
  }
}
