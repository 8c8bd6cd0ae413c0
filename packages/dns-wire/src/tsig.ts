import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { KmsLabError } from '@kmslab/core';
import { CLASS, TYPE } from './constants.js';
import { encodeMessage, encodeRecord } from './encode.js';
import type { Message, RData, ResourceRecord } from './message.js';
import { canonicalName, nameLabels } from './name.js';

/** TSIG error codes (RFC 8945 §5.2.x), carried in the TSIG record with rcode NOTAUTH. */
export const TSIG_ERROR = { BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22 } as const;
const TSIG_ERROR_NAME: Record<number, string> = Object.fromEntries(Object.entries(TSIG_ERROR).map(([name, n]) => [n, name]));

/** A TSIG error's name (`BADKEY`, `BADSIG`, `BADTIME`…, RFC 8945 §5.2), or undefined for a number no one named. */
export function tsigErrorName(error: number): string | undefined {
  return TSIG_ERROR_NAME[error];
}

const ALGORITHMS: Record<string, string> = {
  'hmac-sha256': 'sha256',
  'hmac-sha384': 'sha384',
  'hmac-sha512': 'sha512',
  'hmac-sha224': 'sha224',
  'hmac-sha1': 'sha1',
  'hmac-md5.sig-alg.reg.int': 'md5',
};

/** A TSIG key: name, algorithm and secret. */
export interface TsigKey {
  name: string;
  algorithm: string;
  secret: Buffer;
}

/** `NAME:ALG:SECRET` (secret in base64), as BIND's `nsupdate -y` takes it. */
export function parseTsigKey(text: string): TsigKey {
  const [name, algorithm, secret, ...rest] = text.split(':');
  const alg = (algorithm ?? '').toLowerCase();
  if (!name || !secret || rest.length > 0 || !ALGORITHMS[alg] || alg === 'hmac-md5') {
    throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `TSIG key must be NAME:ALGORITHM:BASE64SECRET with ALGORITHM one of ${Object.keys(ALGORITHMS).join(', ')} (got "${text.replace(/:[^:]*$/, ':…')}")`);
  }
  const bytes = Buffer.from(secret, 'base64');
  if (bytes.length === 0) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `TSIG key ${name}: the secret is not base64`);
  return { name: canonicalName(name), algorithm: alg, secret: bytes };
}

/** Wire form of a name for MAC input: uncompressed, lower case (RFC 8945 §4.3.3). */
function canonicalWireName(name: string): Buffer {
  const labels = nameLabels(canonicalName(name));
  let size = 1;
  for (const label of labels) size += label.length + 1;
  const b = Buffer.allocUnsafe(size);
  let o = 0;
  for (const label of labels) {
    b[o++] = label.length;
    o += b.write(label, o, 'latin1');
  }
  b[o] = 0;
  return b;
}

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

/** A 48-bit time (seconds) at `o`. */
function writeTime48(b: Buffer, o: number, t: number): void {
  b.writeUInt16BE(Math.floor(t / 2 ** 32), o);
  b.writeUInt32BE(t % 2 ** 32, o + 2);
}

function time48(t: number): Buffer {
  const b = Buffer.alloc(6);
  writeTime48(b, 0, t);
  return b;
}

/** A TSIG record's data (RFC 8945 §4.2): the algorithm, times, MAC and error a signed message carries. */
export type TsigData = Extract<RData, { type: 'TSIG' }>;

/** TSIG variables (RFC 8945 §4.3.3), in one buffer; `timersOnly` for later messages of a multi-message answer (§5.3.1). */
function variables(keyName: string, d: TsigData, timersOnly: boolean): Buffer {
  if (timersOnly) {
    const b = Buffer.allocUnsafe(8);
    writeTime48(b, 0, d.timeSigned);
    b.writeUInt16BE(d.fudge, 6);
    return b;
  }
  const key = canonicalWireName(keyName);
  const algorithm = canonicalWireName(d.algorithm);
  const b = Buffer.allocUnsafe(key.length + 6 + algorithm.length + 12 + d.other.length);
  let o = key.copy(b, 0);
  o = b.writeUInt16BE(CLASS.ANY, o);
  o = b.writeUInt32BE(0, o); // TTL
  o += algorithm.copy(b, o);
  writeTime48(b, o, d.timeSigned);
  o = b.writeUInt16BE(d.fudge, o + 6);
  o = b.writeUInt16BE(d.error, o);
  o = b.writeUInt16BE(d.other.length, o);
  d.other.copy(b, o);
  return b;
}

/** `body`, a message encoded without its TSIG record, with `tsig` appended as its last additional record (RFC 8945 §4.2). */
function withTsig(body: Buffer, tsig: ResourceRecord): Buffer {
  const bytes = Buffer.concat([body, encodeRecord(tsig)]);
  bytes.writeUInt16BE(bytes.readUInt16BE(10) + 1, 10);
  return bytes;
}

function mac(key: TsigKey, parts: Buffer[]): Buffer {
  const h = createHmac(ALGORITHMS[key.algorithm]!, key.secret);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** The message as it was before TSIG was added: original id, ARCOUNT one less, TSIG record cut off. */
function unsignedBytes(raw: Buffer, msg: Message): Buffer {
  const b = Buffer.from(raw.subarray(0, msg.tsigOffset));
  b.writeUInt16BE((msg.tsig!.data as TsigData).originalId, 0);
  b.writeUInt16BE(b.readUInt16BE(10) - 1, 10);
  return b;
}

/** What verifying a signed request found. */
export type Verified =
  | { ok: true; key: TsigKey; requestMac: Buffer; tsig: TsigData }
  | { ok: false; error: number; key: TsigKey | null; requestMac: Buffer; tsig: TsigData; reason: string };

/** A fresh TSIG secret: 32 random bytes in base64, as `tsig-keygen -a hmac-sha256` makes. */
export function generateTsigSecret(): string {
  return randomBytes(32).toString('base64');
}

/** Verifies a signed request (RFC 8945 §5.2): key known, MAC right, time within the fudge. */
export function verifyRequest(raw: Buffer, msg: Message, findKey: (name: string) => TsigKey | undefined, nowMs: number): Verified {
  const tsig = msg.tsig!.data as TsigData;
  const key = findKey(canonicalName(msg.tsig!.name)) ?? null;
  if (!key || canonicalName(tsig.algorithm) !== key.algorithm) {
    return { ok: false, error: TSIG_ERROR.BADKEY, key: null, requestMac: tsig.mac, tsig, reason: `unknown key ${msg.tsig!.name}` };
  }
  const expected = mac(key, [unsignedBytes(raw, msg), variables(key.name, tsig, false)]);
  if (tsig.mac.length !== expected.length || !timingSafeEqual(tsig.mac, expected)) {
    return { ok: false, error: TSIG_ERROR.BADSIG, key, requestMac: Buffer.alloc(0), tsig, reason: `wrong signature for key ${key.name}` };
  }
  const now = Math.floor(nowMs / 1000);
  if (Math.abs(now - tsig.timeSigned) > tsig.fudge) {
    return { ok: false, error: TSIG_ERROR.BADTIME, key, requestMac: tsig.mac, tsig, reason: `time signed is ${now - tsig.timeSigned} s off (fudge ${tsig.fudge} s)` };
  }
  return { ok: true, key, requestMac: tsig.mac, tsig };
}

/**
 * Adds a TSIG record to a response and encodes it. A response to a request
 * that failed with BADKEY or BADSIG is not signed (RFC 8945 §5.3.2); BADTIME
 * is signed and carries the server's time.
 */
export function signResponse(res: Message, o: { key: TsigKey | null; keyName: string; algorithm: string; requestMac: Buffer; error?: number; nowMs: number; previousMac?: Buffer }): { bytes: Buffer; mac: Buffer } {
  const now = Math.floor(o.nowMs / 1000);
  const other = o.error === TSIG_ERROR.BADTIME ? time48(now) : Buffer.alloc(0);
  const data: TsigData = { type: 'TSIG', algorithm: o.algorithm, timeSigned: now, fudge: 300, mac: Buffer.alloc(0), originalId: res.id, error: o.error ?? 0, other };
  res.tsig = null;
  // Encoded once: the MAC covers these bytes, and the TSIG record is appended to them.
  const body = encodeMessage(res);
  let digest: Buffer = Buffer.alloc(0);
  if (o.key && o.error !== TSIG_ERROR.BADKEY && o.error !== TSIG_ERROR.BADSIG) {
    const prior = o.previousMac ?? o.requestMac;
    digest = mac(o.key, [u16(prior.length), prior, body, variables(o.keyName, data, o.previousMac !== undefined)]);
  }
  data.mac = digest;
  const record: ResourceRecord = { name: o.keyName, type: TYPE.TSIG, class: CLASS.ANY, ttl: 0, data };
  res.tsig = record;
  return { bytes: withTsig(body, record), mac: digest };
}


/**
 * Verifies a signed response (RFC 8945 §5.3): its key and algorithm, and its
 * MAC over `prior` (the request's MAC for the first message, the last signed
 * message's after it) and the messages since: a long zone transfer may sign
 * only every Nth message (§5.3.1), and `unsignedBefore` holds the ones
 * between. Returns the message's MAC (the next one's `prior`); throws a
 * one-line KmsLabError when it does not verify.
 */
export function verifyResponse(raw: Buffer, msg: Message, key: TsigKey, prior: Buffer, o: { subsequent: boolean; unsignedBefore?: readonly Buffer[] }): Buffer {
  if (!msg.tsig) throw new KmsLabError('KMSLAB_DNS_MALFORMED', `the answer is not signed with the key ${key.name}`);
  const tsig = msg.tsig.data as TsigData;
  if (canonicalName(msg.tsig.name) !== canonicalName(key.name) || canonicalName(tsig.algorithm) !== key.algorithm) {
    throw new KmsLabError('KMSLAB_DNS_MALFORMED', `the answer is signed with ${msg.tsig.name} (${tsig.algorithm}), not the key ${key.name}`);
  }
  if (tsig.error !== 0) throw new KmsLabError('KMSLAB_DNS_REFUSED', `the server did not accept the key ${key.name} (TSIG error ${TSIG_ERROR_NAME[tsig.error] ?? tsig.error})`);
  const expected = mac(key, [u16(prior.length), prior, ...(o.unsignedBefore ?? []), unsignedBytes(raw, msg), variables(key.name, tsig, o.subsequent)]);
  if (tsig.mac.length !== expected.length || !timingSafeEqual(tsig.mac, expected)) throw new KmsLabError('KMSLAB_DNS_MALFORMED', `the answer's signature does not verify with the key ${key.name}`);
  return tsig.mac;
}

/** Signs a request (an update, a transfer) with a key: what `nsupdate -y` does (RFC 8945 §5.1). */
export function signRequest(msg: Message, key: TsigKey, nowMs: number, fudge = 300): { bytes: Buffer; mac: Buffer } {
  msg.tsig = null;
  const data: TsigData = { type: 'TSIG', algorithm: key.algorithm, timeSigned: Math.floor(nowMs / 1000), fudge, mac: Buffer.alloc(0), originalId: msg.id, error: 0, other: Buffer.alloc(0) };
  const body = encodeMessage(msg);
  data.mac = mac(key, [body, variables(key.name, data, false)]);
  msg.tsig = { name: key.name, type: TYPE.TSIG, class: CLASS.ANY, ttl: 0, data };
  return { bytes: withTsig(body, msg.tsig), mac: data.mac };
}
