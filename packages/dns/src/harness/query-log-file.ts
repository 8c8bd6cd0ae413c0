import { closeSync, fstatSync, ftruncateSync, openSync, readSync } from 'node:fs';
import { KmsLabError, writeWholeSync } from '@kmslab/core';

/** Lines waiting for the file beyond this are dropped (and counted) rather than held: a slow disk must not grow memory. */
const MAX_PENDING_LINES = 10_000;
/** How far back from the end a torn last line is looked for (an entry is well under 1 KiB). */
const TAIL_BYTES = 64 * 1024;

/**
 * `--query-log FILE`: the query log as JSON lines, written once per turn of
 * the event loop. The file holds whole lines only, as the host's journal
 * does: a write the disk takes only part of is cut back to the last whole
 * line (shrinking needs no space), so the next write, once there is room
 * again, starts a line of its own; a torn line a crash left is cut off at
 * start. Lines the file cannot take are counted, the first loss is told once,
 * and `problem()` says so until a write succeeds again.
 */
export class QueryLogFile {
  readonly path: string;
  readonly #fd: number;
  #closed = false;
  /** Bytes of whole lines in the file. */
  #size: number;
  #pending: string[] = [];
  #flushScheduled = false;
  #failure: string | null = null;
  readonly #onProblem: (message: string) => void;
  #told = false;
  /** Lines the file did not get (a full disk, or more than MAX_PENDING_LINES waiting). */
  dropped = 0;

  /** Opens (creating) the file for appending; a file that cannot be opened is a one-line error before anything listens. */
  constructor(path: string, onProblem: (message: string) => void = () => {}) {
    this.path = path;
    this.#onProblem = onProblem;
    try {
      this.#fd = openSync(path, 'a');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unwritable';
      throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `Cannot open the query log file ${path} (${code})${code === 'ENOENT' ? ': its folder must exist' : ''}`, { cause: err });
    }
    this.#size = this.#cutTornTail();
  }

  /** A line the file could not take is why health is `degraded`: what, and how many so far. */
  problem(): string | null {
    return this.#failure === null ? null : `the query log file ${this.path} cannot be written (${this.#failure}): ${this.dropped} lines lost so far`;
  }

  add(line: string): void {
    if (this.#pending.length >= MAX_PENDING_LINES) {
      this.#lost(1, 'more lines waiting than the disk takes');
      return;
    }
    this.#pending.push(line);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.#flushScheduled = false;
    if (this.#pending.length === 0 || this.#closed) return;
    const lines = this.#pending;
    this.#pending = [];
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    try {
      writeWholeSync(this.#fd, bytes);
      this.#size += bytes.length;
      this.#failure = null;
    } catch (err) {
      // The log is a test aid: a full disk loses log lines, never answers; and never leaves half a line.
      try {
        ftruncateSync(this.#fd, this.#size);
      } catch {
        // Should even shrinking fail, the next start cuts the torn tail.
      }
      this.#lost(lines.length, (err as NodeJS.ErrnoException).code ?? (err as Error).message);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    closeSync(this.#fd);
  }

  #lost(lines: number, why: string): void {
    this.dropped += lines;
    this.#failure = why;
    if (!this.#told) {
      this.#told = true;
      this.#onProblem(`${this.problem()}; counted in kmslab_dns_query_log_lines_dropped_total, told once`);
    }
  }

  /** Bytes after the last newline were never a whole line: cut them off (as the host's journal does). Returns the file's size after. */
  #cutTornTail(): number {
    const size = fstatSync(this.#fd).size;
    if (size === 0) return 0;
    const read = openSync(this.path, 'r');
    try {
      const length = Math.min(size, TAIL_BYTES);
      const tail = Buffer.alloc(length);
      readSync(read, tail, 0, length, size - length);
      const last = tail.lastIndexOf(0x0a);
      const whole = last < 0 ? size - length : size - length + last + 1;
      if (whole === size) return size;
      ftruncateSync(this.#fd, whole);
      this.#onProblem(`${this.path}: cut off ${size - whole} bytes of a last line that was never completely written`);
      return whole;
    } finally {
      closeSync(read);
    }
  }
}
