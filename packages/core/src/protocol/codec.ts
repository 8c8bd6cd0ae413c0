import { ERROR_CODES, KmsLabError, errorCodeFromWire } from '../errors.js';
import { LICENSE_STATUS, licenseStatusFromWire } from '../license-status.js';
import { FRAME_TYPE, HEADER_BYTES, MAGIC, MAX_FRAME_BYTES, PROTOCOL_VERSION, REQUEST_KIND } from './constants.js';
import type { ActivationRequest, ActivationResponse, ErrorFrame, Frame, HelloResponse, MakRequest, MakResponse } from './messages.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function malformed(why: string, requestId?: number): KmsLabError {
  return new KmsLabError('KMSLAB_MALFORMED_FRAME', `Malformed frame: ${why}`, { detail: { requestId } });
}

function badField(why: string, requestId: number): KmsLabError {
  return new KmsLabError('KMSLAB_MALFORMED_REQUEST', `Malformed request: ${why}`, { detail: { requestId } });
}

/** Strict UTF-8: a byte sequence that is not UTF-8 is an error, never U+FFFD. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function header(type: number, requestId: number, bodyBytes: number): Buffer {
  const total = HEADER_BYTES + bodyBytes;
  if (total > MAX_FRAME_BYTES) throw new KmsLabError('KMSLAB_FRAME_TOO_LARGE');
  const buf = Buffer.allocUnsafe(total);
  buf.writeUInt32BE(total - 4, 0);
  buf.writeUInt16BE(MAGIC, 4);
  buf[6] = PROTOCOL_VERSION;
  buf[7] = type;
  buf.writeUInt32BE(requestId >>> 0, 8);
  return buf;
}

function shortString(value: string, what: string, min = 0): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length < min || bytes.length > 255) {
    throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${what} must be ${min} to 255 bytes long`);
  }
  return bytes;
}

/** A CMID (UUID text) as the 16 bytes the wire carries; throws KMSLAB_INVALID_ARGUMENT otherwise. */
export function cmidToBytes(cmid: string): Buffer {
  if (!UUID.test(cmid)) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `Client machine id "${cmid}" is not a UUID`);
  return Buffer.from(cmid.replace(/-/g, ''), 'hex');
}

/** The CMID (UUID text) in the 16 bytes at `offset`. */
export function cmidFromBytes(buf: Buffer, offset: number): string {
  const h = buf.toString('hex', offset, offset + 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** An ACTIVATION_REQUEST frame (docs/protocol.md). */
export function encodeActivationRequest(requestId: number, req: ActivationRequest): Buffer {
  const product = shortString(req.productId, 'Product id', 1);
  const fqdn = shortString(req.fqdn, 'Client FQDN');
  const buf = header(FRAME_TYPE.activationRequest, requestId, 16 + 8 + 1 + 1 + 1 + product.length + 1 + fqdn.length);
  let o = HEADER_BYTES;
  o += cmidToBytes(req.cmid).copy(buf, o);
  o = buf.writeDoubleBE(req.clientTime, o);
  buf[o++] = REQUEST_KIND[req.kind];
  buf[o++] = LICENSE_STATUS[req.licenseStatus];
  buf[o++] = product.length;
  o += product.copy(buf, o);
  buf[o++] = fqdn.length;
  fqdn.copy(buf, o);
  return buf;
}

/** A MAK_REQUEST frame (docs/protocol.md). */
export function encodeMakRequest(requestId: number, req: MakRequest): Buffer {
  const product = shortString(req.productId, 'Product id', 1);
  const key = shortString(req.key, 'MAK', 1);
  const buf = header(FRAME_TYPE.makRequest, requestId, 16 + 8 + 1 + product.length + 1 + key.length);
  let o = HEADER_BYTES;
  o += cmidToBytes(req.cmid).copy(buf, o);
  o = buf.writeDoubleBE(req.clientTime, o);
  buf[o++] = product.length;
  o += product.copy(buf, o);
  buf[o++] = key.length;
  key.copy(buf, o);
  return buf;
}

/** A MAK_RESPONSE frame (docs/protocol.md). */
export function encodeMakResponse(requestId: number, res: MakResponse): Buffer {
  const hostId = shortString(res.hostId, 'Host id', 1);
  const buf = header(FRAME_TYPE.makResponse, requestId, 4 + 1 + hostId.length);
  let o = buf.writeUInt32BE(res.remaining, HEADER_BYTES);
  buf[o++] = hostId.length;
  hostId.copy(buf, o);
  return buf;
}

/** A HELLO_REQUEST frame (docs/protocol.md). */
export function encodeHelloRequest(requestId: number): Buffer {
  return header(FRAME_TYPE.helloRequest, requestId, 0);
}

/** An ACTIVATION_RESPONSE frame (docs/protocol.md). */
export function encodeActivationResponse(requestId: number, res: ActivationResponse): Buffer {
  const family = shortString(res.family, 'Family', 1);
  const hostId = shortString(res.hostId, 'Host id', 1);
  const buf = header(FRAME_TYPE.activationResponse, requestId, 4 + 2 + 2 + 1 + 4 + 4 + 4 + 8 + 1 + family.length + 1 + hostId.length);
  let o = HEADER_BYTES;
  o = buf.writeUInt32BE(res.errorCode === null ? 0 : ERROR_CODES[res.errorCode].wire, o);
  o = buf.writeUInt16BE(res.count, o);
  o = buf.writeUInt16BE(res.threshold, o);
  buf[o++] = res.licensed ? 1 : 0;
  o = buf.writeUInt32BE(res.activationIntervalMin, o);
  o = buf.writeUInt32BE(res.renewalIntervalMin, o);
  o = buf.writeUInt32BE(res.validityMin, o);
  o = buf.writeDoubleBE(res.hostTime, o);
  buf[o++] = family.length;
  o += family.copy(buf, o);
  buf[o++] = hostId.length;
  hostId.copy(buf, o);
  return buf;
}

/** A HELLO_RESPONSE frame (docs/protocol.md). */
export function encodeHelloResponse(requestId: number, res: HelloResponse): Buffer {
  const software = shortString(res.software, 'Software', 1);
  const hostId = shortString(res.hostId, 'Host id', 1);
  const buf = header(FRAME_TYPE.helloResponse, requestId, 1 + 1 + software.length + 1 + hostId.length);
  let o = HEADER_BYTES;
  buf[o++] = res.protocolVersion;
  buf[o++] = software.length;
  o += software.copy(buf, o);
  buf[o++] = hostId.length;
  hostId.copy(buf, o);
  return buf;
}

/** An ERROR frame; the message is cut to 1,024 bytes (docs/protocol.md). */
export function encodeError(requestId: number, err: ErrorFrame): Buffer {
  let message = Buffer.from(err.message, 'utf8');
  if (message.length > 1024) message = message.subarray(0, 1024);
  const buf = header(FRAME_TYPE.error, requestId, 4 + 2 + message.length);
  let o = buf.writeUInt32BE(ERROR_CODES[err.code].wire, HEADER_BYTES);
  o = buf.writeUInt16BE(message.length, o);
  message.copy(buf, o);
  return buf;
}

/** Reads fields in order and fails with a clear reason when the body runs short. */
class Reader {
  #o: number;
  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly requestId: number,
  ) {
    this.#o = start;
  }
  #need(n: number, what: string): number {
    const at = this.#o;
    if (at + n > this.buf.length) throw malformed(`${what} runs past the end of the frame`, this.requestId);
    this.#o += n;
    return at;
  }
  u8(what: string): number {
    return this.buf[this.#need(1, what)]!;
  }
  u16(what: string): number {
    return this.buf.readUInt16BE(this.#need(2, what));
  }
  u32(what: string): number {
    return this.buf.readUInt32BE(this.#need(4, what));
  }
  f64(what: string): number {
    return this.buf.readDoubleBE(this.#need(8, what));
  }
  cmid(): string {
    return cmidFromBytes(this.buf, this.#need(16, 'client machine id'));
  }
  /** Printable ASCII only (ids, keys): a byte outside 0x21-0x7E is refused, not folded into a letter. */
  ascii(len: number, what: string): string {
    const at = this.#need(len, what);
    for (let i = at; i < at + len; i++) {
      const b = this.buf[i]!;
      if (b < 0x21 || b > 0x7e) throw badField(`${what} has byte 0x${b.toString(16).padStart(2, '0')} at ${i - at}; only printable ASCII is allowed`, this.requestId);
    }
    return this.buf.toString('latin1', at, at + len);
  }
  /** Valid UTF-8, without control characters unless `controls` (a free-text message). */
  text(len: number, what: string, controls = false): string {
    const at = this.#need(len, what);
    let value: string;
    try {
      value = UTF8.decode(this.buf.subarray(at, at + len));
    } catch {
      throw badField(`${what} is not valid UTF-8`, this.requestId);
    }
    // eslint-disable-next-line no-control-regex
    if (!controls && /[\u0000-\u001f\u007f]/.test(value)) throw badField(`${what} holds a control character`, this.requestId);
    return value;
  }
  end(): void {
    if (this.#o !== this.buf.length) throw malformed(`${this.buf.length - this.#o} unexpected bytes after the last field`, this.requestId);
  }
}

/**
 * Decodes one whole frame (length prefix included, as FrameDecoder yields it).
 * Throws KmsLabError KMSLAB_MALFORMED_FRAME / KMSLAB_UNSUPPORTED_VERSION with
 * `detail.requestId` when the header was readable.
 */
export function decodeFrame(frame: Buffer): Frame {
  if (frame.length < HEADER_BYTES) throw malformed(`${frame.length} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  if (frame.readUInt16BE(4) !== MAGIC) throw malformed('bad magic (not a kmslab frame)');
  const requestId = frame.readUInt32BE(8);
  if (frame[6] !== PROTOCOL_VERSION) {
    throw new KmsLabError('KMSLAB_UNSUPPORTED_VERSION', `Protocol version ${frame[6]} is not supported; this side speaks version ${PROTOCOL_VERSION}`, {
      detail: { requestId },
    });
  }
  const r = new Reader(frame, HEADER_BYTES, requestId);
  switch (frame[7]) {
    case FRAME_TYPE.activationRequest: {
      const cmid = r.cmid();
      const clientTime = r.f64('client time');
      const kindByte = r.u8('request kind');
      const kind = kindByte === REQUEST_KIND.activation ? 'activation' : kindByte === REQUEST_KIND.renewal ? 'renewal' : undefined;
      if (!kind) throw malformed(`unknown request kind ${kindByte}`, requestId);
      const statusByte = r.u8('license status');
      const licenseStatus = licenseStatusFromWire(statusByte);
      if (!licenseStatus) throw malformed(`unknown license status ${statusByte}`, requestId);
      const productId = r.ascii(r.u8('product id length'), 'product id');
      if (productId.length === 0) throw malformed('empty product id', requestId);
      const fqdn = r.text(r.u8('client FQDN length'), 'client FQDN');
      r.end();
      if (!Number.isFinite(clientTime)) throw malformed('client time is not a finite number', requestId);
      return { type: 'activationRequest', requestId, body: { cmid, productId, fqdn, clientTime, kind, licenseStatus } };
    }
    case FRAME_TYPE.helloRequest:
      r.end();
      return { type: 'helloRequest', requestId };
    case FRAME_TYPE.makRequest: {
      const cmid = r.cmid();
      const clientTime = r.f64('client time');
      const productId = r.ascii(r.u8('product id length'), 'product id');
      const key = r.ascii(r.u8('MAK length'), 'MAK');
      r.end();
      if (!productId || !key || !Number.isFinite(clientTime)) throw malformed('empty product id or MAK, or a bad client time', requestId);
      return { type: 'makRequest', requestId, body: { cmid, productId, clientTime, key } };
    }
    case FRAME_TYPE.makResponse: {
      const remaining = r.u32('remaining');
      const hostId = r.text(r.u8('host id length'), 'host id');
      r.end();
      return { type: 'makResponse', requestId, body: { remaining, hostId } };
    }
    case FRAME_TYPE.activationResponse: {
      const wire = r.u32('result code');
      const errorCode = wire === 0 ? null : (errorCodeFromWire(wire) ?? null);
      if (wire !== 0 && errorCode === null) throw malformed(`unknown result code 0x${wire.toString(16)}`, requestId);
      const count = r.u16('count');
      const threshold = r.u16('threshold');
      const licensed = r.u8('licensed') === 1;
      const activationIntervalMin = r.u32('activation interval');
      const renewalIntervalMin = r.u32('renewal interval');
      const validityMin = r.u32('validity');
      const hostTime = r.f64('host time');
      const family = r.text(r.u8('family length'), 'family');
      const hostId = r.text(r.u8('host id length'), 'host id');
      r.end();
      const body: ActivationResponse = {
        errorCode, licensed, count, threshold, family, activationIntervalMin, renewalIntervalMin, validityMin, hostId, hostTime,
      };
      return { type: 'activationResponse', requestId, body };
    }
    case FRAME_TYPE.helloResponse: {
      const protocolVersion = r.u8('protocol version');
      const software = r.text(r.u8('software length'), 'software');
      const hostId = r.text(r.u8('host id length'), 'host id');
      r.end();
      return { type: 'helloResponse', requestId, body: { protocolVersion, software, hostId } };
    }
    case FRAME_TYPE.error: {
      const wire = r.u32('error code');
      const message = r.text(r.u16('message length'), 'message', true);
      r.end();
      const code = errorCodeFromWire(wire);
      if (!code) throw malformed(`unknown error code 0x${wire.toString(16)}`, requestId);
      return { type: 'error', requestId, body: { code, message } };
    }
    default:
      throw malformed(`unknown frame type 0x${frame[7]!.toString(16)}`, requestId);
  }
}
