// Shared by the step tests beside it (not built: tsconfig.build.json leaves *.fixture.ts out).
import { CLASS, OPCODE, TYPE, emptyMessage, encodeMessage, type Message } from '@kmslab/dns-wire';
import { AnswerCache } from '../answer-cache.js';
import { FaultSet } from '../harness/fault-set.js';
import { parseFaultRule } from '../harness/fault-rule.js';
import { parseKeyPolicy, type KeyPolicy } from '../update/policy.js';
import { ReplayGuard } from '../update/replay-guard.js';
import { defaultZone } from '../zone/default-zone.js';
import { ZoneSet } from '../zone/zone-set.js';
import type { ZoneChange } from '../zone/journal-entry.js';
import type { Zone } from '../zone/zone.js';
import { decodeRequest } from './decode.js';
import { exchangeFor, type Exchange, type ServerContext, type Transport } from './exchange.js';
import { verifySignature } from './tsig.js';

export const NOW = Date.UTC(2026, 10, 28, 12);
/** A host's key: may add its own SRV record and addresses. */
export const HOST_KEY = parseKeyPolicy('kms1:hmac-sha256:a21zbGFiLXRlc3Qtc2VjcmV0LWtleS0wMTIzNDU2Nzg5:host=kms1.lab.test');
/** A secondary's key: zone transfers only. */
export const TRANSFER_KEY = parseKeyPolicy('xfr:hmac-sha256:a21zbGFiLXRyYW5zZmVyLWtleS0wMTIzNDU2Nzg5YWI=:transfer');

export interface TestContext extends ServerContext {
  events: Record<string, unknown>[];
  zone: Zone;
}

/** lab.test with one SRV record, the given keys and fault rules, events collected. */
export function context(o: { cache?: boolean; keys?: KeyPolicy[]; faults?: string[]; saveZone?: (zone: Zone, change?: ZoneChange) => void } = {}): TestContext {
  const zones = new ZoneSet();
  const zone = defaultZone('lab.test');
  zone.add({ name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, class: CLASS.IN, ttl: 600, data: { type: 'SRV', priority: 0, weight: 0, port: 1688, target: 'ns.lab.test' } });
  zones.add(zone);
  const faults = new FaultSet({ random: () => 0, now: () => NOW });
  for (const rule of o.faults ?? []) faults.add(parseFaultRule(rule, NOW));
  const events: Record<string, unknown>[] = [];
  return { zones, zone, keys: new Map((o.keys ?? []).map((k) => [k.key.name, k])), now: () => NOW, cache: o.cache ? new AnswerCache() : undefined, faults, replays: new ReplayGuard(), saveZone: o.saveZone, onEvent: (e) => events.push(e), events };
}

/** A query message (encode it, or sign it first). */
export function queryMessage(name: string, type: number, o: { id?: number; edns?: number; opcode?: number } = {}): Message {
  const m = emptyMessage(o.id ?? 7);
  if (o.opcode !== undefined) m.opcode = o.opcode;
  m.questions = [{ name, type, class: CLASS.IN }];
  if (o.edns !== undefined) m.edns = { udpSize: o.edns, version: 0, dnssecOk: false, extendedRcode: 0 };
  return m;
}

/** A query's bytes; encodeMessage writes the server's own OPT size, so a client's offer is written in after. */
export function query(name: string, type: number, o: Parameters<typeof queryMessage>[2] = {}): Buffer {
  const raw = encodeMessage(queryMessage(name, type, o));
  if (o.edns !== undefined) raw.writeUInt16BE(o.edns, raw.length - 8); // the OPT record's CLASS, last but its TTL and RDLENGTH
  return raw;
}

/** An update adding an SRV record for `target` to lab.test. */
export function updateMessage(target: string): Message {
  const m = emptyMessage(77);
  m.opcode = OPCODE.UPDATE;
  m.questions = [{ name: 'lab.test', type: TYPE.SOA, class: CLASS.IN }];
  m.authorities = [{ name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, class: CLASS.IN, ttl: 600, data: { type: 'SRV', priority: 0, weight: 0, port: 1688, target } }];
  return m;
}

/** An exchange as the steps before `step` leave it: decoded, and its signature verified (which must pass). */
export function decoded(raw: Buffer, ctx: ServerContext, transport: Transport = 'udp'): Exchange {
  const ex = exchangeFor(raw, transport, ctx, { address: '127.0.0.1', port: 5300 });
  if (decodeRequest(ex) || verifySignature(ex)) throw new Error('the request did not get past decode and TSIG');
  return ex;
}
