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
 */
export class FrameDecoder {
  #pending: Buffer | null = null;
  #started = false;

  /** Bytes received but not yet part of a whole frame. */
  get buffered(): number {
    return this.#pending?.length ?? 0;
  }

  push(chunk: Buffer): Buffer[] {
    const buf = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = null;
    if (!this.#started) {
      if (buf.length < 4) {
        this.#pending = Buffer.from(buf);
        return [];
      }
      this.#started = true;
      if (looksLikeDceRpcBind(buf)) throw new KmsLabError('KMSLAB_FOREIGN_PROTOCOL');
      const foreign = describeForeignOpening(buf);
      if (foreign) throw new KmsLabError('KMSLAB_MALFORMED_FRAME', `The peer speaks ${foreign}, not kmslab's protocol: something other than kmslab is on this port`);
    }
    const frames: Buffer[] = [];
    let o = 0;
    while (buf.length - o >= 4) {
      const total = buf.readUInt32BE(o) + 4;
      if (total > MAX_FRAME_BYTES) {
        throw new KmsLabError('KMSLAB_FRAME_TOO_LARGE', `Frame of ${total} bytes is over the ${MAX_FRAME_BYTES}-byte limit`);
      }
      if (buf.length - o < total) break;
      frames.push(buf.subarray(o, o + total));
      o += total;
    }
    // Copy the tail so a large socket chunk is not kept alive by a few bytes.
    if (o < buf.length) this.#pending = Buffer.from(buf.subarray(o));
    return frames;
  }
}
