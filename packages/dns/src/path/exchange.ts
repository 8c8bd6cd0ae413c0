import type { Message, Verified } from '@kmslab/dns-wire';
import type { AnswerCache, CachedAnswer, FastQuery } from '../answer-cache.js';
import type { AppliedFault, FaultSet } from '../harness/fault-set.js';
import type { FaultNet } from '../harness/fault-rule.js';
import type { KeyPolicy } from '../update/policy.js';
import type { Ownership } from '../update/ownership.js';
import type { Aging } from '../zone/aging.js';
import type { SecondaryZone } from '../secondary.js';
import type { ReplayGuard } from '../update/replay-guard.js';
import type { ZoneChange } from '../zone/journal-entry.js';
import type { Zone } from '../zone/zone.js';
import type { ZoneSet } from '../zone/zone-set.js';

/**
 * The types of the DNS request path: what a server answers with, who asked,
 * what one message became, and the state one message carries from step to
 * step (handle-message.ts lists the steps in order). The harness (query log,
 * stats) reads `Handled` and `Client` from here, below the steps.
 */

/** UDP or TCP. */
export type Transport = 'udp' | 'tcp';

/** What a server answers with: its zones, its TSIG keys and their grants, its clock. */
export interface ServerContext {
  zones: ZoneSet;
  keys: ReadonlyMap<string, KeyPolicy>;
  now(): number;
  /**
   * Keeps a zone as a dynamic update leaves it, before it is served (the
   * zone journal); throws when it cannot (a full disk): the update is then
   * answered SERVFAIL and changes nothing. `change`: the serial it started
   * from and the names it touched (the journal keeps only those).
   */
  saveZone?(zone: Zone, change?: ZoneChange): void;
  /** Told about every dynamic update and refused transfer, for the log. */
  onEvent?(event: Record<string, unknown>): void;
  /** Pre-encoded answers for plain queries (the fast path); none: every query is answered in full. */
  cache?: AnswerCache | undefined;
  /** Signed updates already applied in their TSIG window; a repeat is refused. */
  replays?: ReplayGuard | undefined;
  /** Faults switched on at run time (the test harness); none: every query answered as the zones say. */
  faults?: FaultSet | undefined;
  /** Who owns each name of a secure zone, and the groups granted on names (update/ownership.ts). */
  ownership?: Ownership | undefined;
  /** Record timestamps and scavenging (zone/aging.ts); none: dynamic records are not stamped. */
  aging?: Aging | undefined;
  /** Client prefixes whose secondaries transfer without a key (`--allow-transfer`). */
  allowTransfer?: readonly FaultNet[] | undefined;
  /** Told when a zone's serial moved (an update, a scavenging pass): NOTIFY goes out to the secondaries. */
  onZoneChanged?(zone: Zone): void;
  /** Zones this server follows from a primary (secondary.ts): NOTIFY from it accepted, updates refused. */
  secondaries?: ReadonlyMap<string, SecondaryZone> | undefined;
}

/** Who sent the message, for `from=` fault rules and the query log. */
export interface Client {
  address: string;
  port: number;
}

/** What handleMessage made of one message: the answer, and what the query log records. */
export interface Handled {
  /** The answer (several messages for a zone transfer), or null to stay silent (responses, unreadable headers, a `drop` fault). */
  bytes: Buffer | Buffer[] | null;
  rcode: number | null;
  kind: 'query' | 'update' | 'malformed' | 'dropped' | 'notimp' | 'transfer' | 'notauth' | 'notify';
  /** What was asked, when it could be read (the query log shows it); on the fast path the name in wire form instead. */
  qname?: string | undefined;
  qnameWire?: string | undefined;
  qtype?: number | undefined;
  ednsSize?: number | null | undefined;
  dnssecOk?: boolean | undefined;
  /** The TSIG key of a signed request. */
  key?: string | undefined;
  /** Why an update was not applied (`unsigned`, `replay`, `fault`, `tsig`, or the policy's reason). */
  reason?: string | undefined;
  /** The fault applied, and how long to wait before sending (a `delay` fault). */
  fault?: AppliedFault | null | undefined;
  delayMs?: number | undefined;
}

/** What a decoded request asked, copied into every Handled for the query log. */
export interface Asked {
  qname: string | undefined;
  qtype: number | undefined;
  ednsSize: number | null;
  dnssecOk: boolean;
  key: string | undefined;
}

/** A request whose TSIG verified (RFC 8945): its answer is signed with the same key. */
export type Signed = Extract<Verified, { ok: true }>;

/** One message on its way through the steps; each step reads what earlier ones set. */
export interface Exchange {
  readonly raw: Buffer;
  readonly transport: Transport;
  readonly client: Client | undefined;
  readonly ctx: ServerContext;
  /** Set by the fast path: a plain query's cache key, its cached answer, its name in wire form (made only when needed). */
  fast: FastQuery | null;
  cached: CachedAnswer | null;
  wireName: string | undefined;
  /** Set by decode. */
  req: Message | undefined;
  asked: Asked | undefined;
  /** The largest UDP answer this client takes; undefined over TCP. */
  maxSize: number | undefined;
  /** Set by the TSIG step when the request was signed and verified. */
  signed: Signed | null;
  /** The fault for this message; undefined until matched (once, by faults.ts). */
  fault: AppliedFault | null | undefined;
}

/** One step of the path: an answer ends the message's way, undefined hands it to the next step. */
export type Step = (ex: Exchange) => Handled | undefined;

/** A fresh exchange (every field present, so every exchange has one shape). */
export function exchangeFor(raw: Buffer, transport: Transport, ctx: ServerContext, client: Client | undefined): Exchange {
  return { raw, transport, client, ctx, fast: null, cached: null, wireName: undefined, req: undefined, asked: undefined, maxSize: undefined, signed: null, fault: undefined };
}
