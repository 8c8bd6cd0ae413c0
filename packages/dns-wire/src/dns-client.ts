import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { KmsLabError } from '@kmslab/core';
import { CLASS, CLASSIC_UDP_SIZE, OPCODE, RCODE, TYPE, rcodeName } from './constants.js';
import { decodeMessage } from './decode.js';
import { encodeMessage } from './encode.js';
import { emptyMessage, type Message, type ResourceRecord } from './message.js';
import { signRequest, tsigErrorName, type TsigKey } from './tsig.js';

/** A DNS server to ask, and how long to wait for it. */
export interface DnsTarget {
  host: string;
  port: number;
  timeoutMs?: number;
}

function randomId(): number {
  return Math.floor(Math.random() * 0x10000);
}

/** One message over UDP; resolves with the answer whose id matches. */
export function exchangeUdp(target: DnsTarget, bytes: Buffer): Promise<Message> {
  const id = bytes.readUInt16BE(0);
  return new Promise((resolve, reject) => {
    const socket = createSocket(target.host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new KmsLabError('KMSLAB_TIMEOUT', `DNS server ${target.host}:${target.port} did not answer over UDP within ${target.timeoutMs ?? 2000} ms`));
    }, target.timeoutMs ?? 2000);
    socket.on('error', (err) => {
      clearTimeout(timer);
      socket.close();
      reject(new KmsLabError('KMSLAB_CONNECTION_FAILED', `DNS over UDP to ${target.host}:${target.port}: ${err.message}`, { cause: err }));
    });
    socket.on('message', (raw) => {
      if (raw.length < 2 || raw.readUInt16BE(0) !== id) return; // not ours: keep waiting
      clearTimeout(timer);
      socket.close();
      try {
        resolve(decodeMessage(raw));
      } catch (err) {
        reject(new KmsLabError('KMSLAB_MALFORMED_FRAME', `Unreadable DNS answer from ${target.host}:${target.port}: ${(err as Error).message}`));
      }
    });
    socket.send(bytes, target.port, target.host);
  });
}

/** One message over TCP (2-byte length prefix, RFC 1035 §4.2.2). */
export function exchangeTcp(target: DnsTarget, bytes: Buffer): Promise<Message> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port });
    let buf = Buffer.alloc(0);
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      f();
    };
    const fail = (err: KmsLabError) => settle(() => reject(err));
    socket.setTimeout(target.timeoutMs ?? 2000, () => fail(new KmsLabError('KMSLAB_TIMEOUT', `DNS server ${target.host}:${target.port} did not answer over TCP in time`)));
    socket.on('error', (err) => fail(new KmsLabError('KMSLAB_CONNECTION_FAILED', `DNS over TCP to ${target.host}:${target.port}: ${err.message}`, { cause: err })));
    // A peer (or a port proxy whose backend is not up yet) may close without answering.
    socket.on('close', () => fail(new KmsLabError('KMSLAB_CONNECTION_FAILED', `DNS server ${target.host}:${target.port} closed the TCP connection without an answer`)));
    socket.on('connect', () => socket.write(Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes])));
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      settle(() => {
        try {
          resolve(decodeMessage(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        } catch (err) {
          reject(new KmsLabError('KMSLAB_MALFORMED_FRAME', `Unreadable DNS answer from ${target.host}:${target.port}: ${(err as Error).message}`));
        }
      });
    });
  });
}

/**
 * One question: over UDP, asked again over TCP when the answer is truncated;
 * `transport: 'tcp'` asks over TCP at once (a DNS server reached through a
 * TCP-only port mapping, a health check); `transport: 'udp'` over UDP only,
 * a truncated answer returned as it came (`kmslab discover --check` looks at TC).
 */
export async function query(target: DnsTarget, name: string, type: number, options: { transport?: 'udp' | 'tcp' } = {}): Promise<{ answer: Message; transport: 'udp' | 'tcp' }> {
  const q = emptyMessage(randomId());
  q.rd = true;
  q.questions = [{ name, type, class: CLASS.IN }];
  q.edns = { udpSize: CLASSIC_UDP_SIZE * 2, version: 0, dnssecOk: false, extendedRcode: 0 };
  const bytes = encodeMessage(q);
  if (options.transport === 'tcp') return { answer: await exchangeTcp(target, bytes), transport: 'tcp' };
  const answer = await exchangeUdp(target, bytes);
  if (!answer.tc || options.transport === 'udp') return { answer, transport: 'udp' };
  return { answer: await exchangeTcp(target, bytes), transport: 'tcp' };
}

/**
 * Changes `zone` by dynamic update (RFC 2136): `records` in the update
 * section (class NONE/ANY deletes, IN adds), signed with `key`, over TCP;
 * throws unless the server answers NOERROR.
 */
export async function updateZone(target: DnsTarget, zone: string, records: ResourceRecord[], key: TsigKey | null, nowMs: number): Promise<void> {
  const msg = emptyMessage();
  msg.opcode = OPCODE.UPDATE;
  msg.questions = [{ name: zone, type: TYPE.SOA, class: CLASS.IN }];
  msg.authorities = records;
  const answer = await sendUpdate(target, msg, key, nowMs);
  if (answer.rcode !== RCODE.NOERROR) {
    // What the server said, as an admin reads it: the TSIG error when it did not take the key (BADKEY, BADSIG, BADTIME), else the RCODE.
    const tsigError = (answer.tsig?.data as { error?: number } | null | undefined)?.error ?? 0;
    const dnsError = tsigError !== 0 ? (tsigErrorName(tsigError) ?? `TSIG error ${tsigError}`) : rcodeName(answer.rcode);
    throw new KmsLabError('KMSLAB_DNS_REFUSED', `DNS server ${target.host}:${target.port} refused the update of ${zone}: ${dnsError}`, { detail: { dnsError, rcode: rcodeName(answer.rcode), zone } });
  }
}

/** Sends a dynamic update (RFC 2136), signed with `key` when given, over TCP. */
export function sendUpdate(target: DnsTarget, update: Message, key: TsigKey | null, nowMs: number): Promise<Message> {
  update.id = randomId();
  const bytes = key ? signRequest(update, key, nowMs).bytes : encodeMessage(update);
  return exchangeTcp(target, bytes);
}
