import { KmsLabError } from '../errors.js';
import { MAX_FRAME_BYTES } from './constants.js';

/** DCE/RPC connection-oriented header: version 5, minor 0 or 1, packet type 11 (bind). */
export function looksLikeDceRpcBind(buf: Buffer): boolean {
  return buf.length >= 3 && buf[0] === 5 && (buf[1] === 0 || buf[1] === 1) && buf[2] === 11;
}

/** What the first bytes of another protocol look like, for an error that says who is really on the port. */
const FOREIGN_OPENINGS: Array<[RegExp, string]> = [
  [/^HTTP\//, 'HTTP (a web server answered)'],
  [/^(GET |POST|PUT |HEAD|DELE|OPTI|PATC|CONN)/, 'HTTP (a web client connected)'],
  [/^\x16\x03/, 'TLS (a handshake)'],
  [/^\x15\x03/, 'TLS (an alert)'],
  [/^SSH-/, 'SSH'],
  [/^(\+OK|-ERR|-DEN|-NOA)/, 'a line protocol such as Redis or POP3'],
  [/^220[ -]/, 'SMTP or FTP (a 220 banner)'],
];

/** The protocol the stream's first bytes belong to, when it is a known one other than kmslab's. */
export function describeForeignOpening(buf: Buffer): string | null {
  const head = buf.toString('latin1', 0, Math.min(8, buf.length));
  return FOREIGN_OPENINGS.find(([pattern]) => pattern.test(head))?.[1] ?? null;
}

/**
 * Splits a TCP byte stream into whole frames (length prefix included).
 * Throws KMSLAB_FRAME_TOO_LARGE for a length over the limit, and
 * KMSLAB_FOREIGN_PROTOCOL when the stream opens with a DCE/RPC bind, which is
 * what a real Windows KMS client sends: detected from the header alone.
 *
 * `write` takes a chunk and says how many whole frames it completed; `next`
 * hands them out one at a time. A server answering thousands of pipelined
 * frames a slice per event-loop turn takes each frame as it answers it, so
 * no array of thousands of frames lives across turns (and into the old
 * generation, where a flood's garbage would grow the heap).
 */
export class FrameDecoder {
  /** Unconsumed bytes: whole frames from `#offset` to `#wholeEnd`, then a partial one. */
  #buf: Buffer | null = null;
  #offset = 0;
  #wholeEnd = 0;
  #started = false;

  /** Bytes received but not yet part of a whole frame. */
  get buffered(): number {
    return this.#buf ? this.#buf.length - this.#wholeEnd : 0;
  }

  /** Adds a chunk; the number of frames it completed (taken with `next`). */
  write(chunk: Buffer): number {
    let buf = chunk;
    let o = 0;
    if (this.#buf) {
      buf = Buffer.concat([this.#buf.subarray(this.#offset), chunk]);
      o = this.#wholeEnd - this.#offset;
    }
    this.#buf = buf;
    this.#offset = 0;
    if (!this.#started) {
      if (buf.length < 4) {
        this.#buf = Buffer.from(buf);
        this.#wholeEnd = 0;
        return 0;
      }
      this.#started = true;
      if (looksLikeDceRpcBind(buf)) throw new KmsLabError('KMSLAB_FOREIGN_PROTOCOL');
      const foreign = describeForeignOpening(buf);
      if (foreign) throw new KmsLabError('KMSLAB_MALFORMED_FRAME', `The peer speaks ${foreign}, not kmslab's protocol: something other than kmslab is on this port`);
    }
    let completed = 0;
    while (buf.length - o >= 4) {
      const total = buf.readUInt32BE(o) + 4;
      if (total > MAX_FRAME_BYTES) {
        throw new KmsLabError('KMSLAB_FRAME_TOO_LARGE', `Frame of ${total} bytes is over the ${MAX_FRAME_BYTES}-byte limit`);
      }
      if (buf.length - o < total) break;
      o += total;
      completed++;
    }
    this.#wholeEnd = o;
    this.#trim();
    return completed;
  }

  /** The next whole frame, or null until more bytes complete one. */
  next(): Buffer | null {
    const buf = this.#buf;
    if (!buf || this.#offset >= this.#wholeEnd) return null;
    const start = this.#offset;
    this.#offset += buf.readUInt32BE(start) + 4;
    const frame = buf.subarray(start, this.#offset);
    this.#trim();
    return frame;
  }

  /** Every whole frame a chunk completes, at once (a client reading a few answers). */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    for (let n = this.write(chunk); n > 0; n--) frames.push(this.next()!);
    return frames;
  }

  /** Once the whole frames are taken, keeps only a copy of the partial tail: a large socket chunk is not kept alive by a few bytes. */
  #trim(): void {
    const buf = this.#buf!;
    if (this.#offset < this.#wholeEnd) return;
    this.#buf = this.#offset < buf.length ? Buffer.from(buf.subarray(this.#offset)) : null;
    this.#offset = 0;
    this.#wholeEnd = 0;
  }
}
