import { KmsConnection, KmsLabError, toKmsLabError } from '@kmslab/core';

/** How long a client waits for a host (connect, then its answer). */
export interface HostTimeouts {
  /** Until the TCP connection is up. */
  connectTimeoutMs: number;
  /** Until the host's answer has arrived. */
  requestTimeoutMs: number;
}

/** Opens the connection to one host, or fails with a KmsLabError (refused, timed out). */
export type HostConnector = (host: string, port: number, timeouts: HostTimeouts) => Promise<KmsConnection>;

/** One connection attempt, given up after `connectTimeoutMs` (kmslab's `plain` profile, `kmslab activate`). */
export const connectOnce: HostConnector = (host, port, timeouts) => KmsConnection.connect({ host, port, ...timeouts });

/**
 * When a Windows client sends its SYNs to a host that refuses or stays
 * silent, in ms after the first: measured on a Windows 11 client against a
 * priority-0 target where nothing listened (kms-reference.md "What a Windows
 * client sends, as captured on the wire").
 */
export const WINDOWS_SYN_TIMES_MS: readonly number[] = [0, 500, 1000, 1500, 2000];

/**
 * When a Windows client gives up on a host after its first SYN: measured
 * 2.07 s to the next priority after the fifth SYN was refused. Where nothing
 * answers at all (no RST) the captures say nothing; kmslab gives up at the
 * same time, so a silent target costs what a refusing one does.
 */
export const WINDOWS_GIVE_UP_MS = 2100;

/**
 * A Windows client's connection to one host: a new SYN at each of
 * `WINDOWS_SYN_TIMES_MS` until one is answered, an earlier SYN still allowed
 * to win while later ones go out (a slow path is not a dead one), and a
 * failure once every try was refused or `WINDOWS_GIVE_UP_MS` passed. So a
 * stale SRV record costs about 2 s before the next target, as it does on
 * Windows. `wait` lets time pass between SYNs: real time by default; the lab
 * passes one that moves its virtual clock, so the cost shows in lab time.
 */
export function windowsConnector(wait?: (ms: number) => Promise<void>): HostConnector {
  return async (host, port, timeouts) => {
    // Timers of this connection only, cleared when it is decided: none may hold the process (or keep it) after.
    const timers = new AbortController();
    const realWait = (ms: number) => sleep(ms, timers.signal);
    try {
      return await connectWindows(host, port, timeouts, wait ?? realWait, realWait);
    } finally {
      timers.abort();
    }
  };
}

/** The SYN schedule itself: `wait` for the interval after a refusal, `realWait` while a SYN is out. */
async function connectWindows(host: string, port: number, timeouts: HostTimeouts, wait: (ms: number) => Promise<void>, realWait: (ms: number) => Promise<void>): Promise<KmsConnection> {
  let winner: KmsConnection | null = null;
  let lastError: KmsLabError | null = null;
  let open = 0;
  // Woken whenever a try settles or the client's wait is over.
  let wake: () => void = () => {};
  const changed = () => new Promise<void>((resolve) => (wake = resolve));
  const send = (at: number): Promise<void> => {
    open++;
    return KmsConnection.connect({ host, port, connectTimeoutMs: WINDOWS_GIVE_UP_MS - at, requestTimeoutMs: timeouts.requestTimeoutMs })
      .then(
        (conn) => {
          if (winner) conn.close();
          else winner = conn;
        },
        (err: unknown) => {
          lastError = toKmsLabError(err);
        },
      )
      .finally(() => {
        open--;
        wake();
      });
  };
  for (let i = 0; i < WINDOWS_SYN_TIMES_MS.length; i++) {
    const last = i === WINDOWS_SYN_TIMES_MS.length - 1;
    const gap = (WINDOWS_SYN_TIMES_MS[i + 1] ?? WINDOWS_GIVE_UP_MS) - WINDOWS_SYN_TIMES_MS[i]!;
    const sentAt = performance.now();
    // Real time passes while this SYN is unanswered; the next goes out when the interval is up.
    const answered = await Promise.race([send(WINDOWS_SYN_TIMES_MS[i]!).then(() => true), realWait(gap).then(() => false)]);
    if (winner) return winner;
    if (answered && !last) {
      // Refused: the client waits out the interval (the lab's clock in a lab); an earlier SYN may still be answered meanwhile.
      let over = false;
      void wait(Math.max(0, gap - (performance.now() - sentAt))).then(() => {
        over = true;
        wake();
      });
      while (!winner && !over) await changed();
      if (winner) return winner;
    }
  }
  while (!winner && open > 0) await changed();
  if (winner) return winner;
  const e = lastError ?? new KmsLabError('KMSLAB_CONNECTION_FAILED', `Cannot connect to ${host}:${port}`);
  throw new KmsLabError(e.code, `${e.message} (${WINDOWS_SYN_TIMES_MS.length} tries over ${WINDOWS_SYN_TIMES_MS.at(-1)! / 1000} s, as a Windows client makes them)`, { cause: e });
}

/** Resolves after `ms`, or at once when `signal` aborts (its timer cleared). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
