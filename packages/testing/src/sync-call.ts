import { KmsLabError, isErrorCode } from '@kmslab/core';

/** What a synchronous call across threads shares: a flag to wait on (and the answer's length), and the answer's bytes. */
export interface SyncBuffers {
  signal: SharedArrayBuffer;
  data: SharedArrayBuffer;
}

/** Room for an answer: a full page of the query log (10,000 entries) with plenty to spare. */
const DATA_BYTES = 32 * 1024 * 1024;
/** The longest a caller waits for the worker's answer. */
const WAIT_MS = 10_000;

export function syncBuffers(): SyncBuffers {
  return { signal: new SharedArrayBuffer(8), data: new SharedArrayBuffer(DATA_BYTES) };
}

/** An error as it crosses threads: its code (when kmslab's) and message. */
interface WireError {
  code?: string;
  message: string;
}

const toWire = (err: unknown): WireError => ({ code: (err as KmsLabError).code, message: (err as Error).message ?? String(err) });
const fromWire = (e: WireError): Error => (e.code && isErrorCode(e.code) ? new KmsLabError(e.code, e.message) : new Error(e.message));
export { fromWire as errorFromWire, toWire as errorToWire };

/**
 * The caller's side: posts the call, then blocks this thread on the flag
 * until the worker, whose event loop is not this one, has written the
 * answer. So an API that is synchronous in process (`lab.dnsServer.faults.add`)
 * stays synchronous when the lab runs in a worker.
 */
export function callSync<T>(buffers: SyncBuffers, post: (message: unknown) => void, method: string, args: unknown[]): T {
  const signal = new Int32Array(buffers.signal);
  Atomics.store(signal, 0, 0);
  post({ sync: true, method, args });
  if (Atomics.wait(signal, 0, 0, WAIT_MS) === 'timed-out') throw new KmsLabError('KMSLAB_TIMEOUT', `the lab's worker did not answer ${method} within ${WAIT_MS / 1000} s`);
  const length = signal[1]!;
  const answer = JSON.parse(Buffer.from(new Uint8Array(buffers.data, 0, length)).toString('utf8')) as { ok: true; value: T } | { ok: false; error: WireError };
  if (!answer.ok) throw fromWire(answer.error);
  return answer.value;
}

/** The worker's side: writes what `run` returns (or throws) where the caller waits, and wakes it. */
export function answerSync(buffers: SyncBuffers, run: () => unknown): void {
  let text: string;
  try {
    text = JSON.stringify({ ok: true, value: run() ?? null });
  } catch (err) {
    text = JSON.stringify({ ok: false, error: toWire(err) });
  }
  let bytes = Buffer.from(text);
  if (bytes.length > DATA_BYTES) bytes = Buffer.from(JSON.stringify({ ok: false, error: { message: `the answer is ${bytes.length} bytes, over the ${DATA_BYTES} a call may carry: ask for less (a limit, a filter)` } }));
  new Uint8Array(buffers.data).set(bytes);
  const signal = new Int32Array(buffers.signal);
  signal[1] = bytes.length;
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
}
