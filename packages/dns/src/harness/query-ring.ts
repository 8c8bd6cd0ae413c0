import type { LogRecord } from './log-entry.js';
import type { FaultAction } from './fault-rule.js';

const TCP = 1;
const RD = 2;
const DO = 4;
const TC = 8;
/** The name column holds the wire form (the fast path's). */
const WIRE = 16;

/**
 * The last N records in columns: numbers in typed arrays, strings as
 * references to ones that exist anyway (the query name, the client address).
 * Recording a query allocates nothing, so a busy server's log costs the
 * garbage collector nothing either; `get` builds a record when read.
 */
export class QueryRing {
  readonly capacity: number;
  readonly #at: Float64Array;
  readonly #latency: Float32Array;
  readonly #port: Uint16Array;
  readonly #id: Uint16Array;
  readonly #qtype: Int32Array;
  readonly #rcode: Int8Array;
  readonly #answers: Uint16Array;
  readonly #bits: Uint8Array;
  readonly #edns: Int32Array;
  readonly #address: Array<string | undefined>;
  readonly #qname: Array<string | undefined>;
  readonly #kind: Array<string | undefined>;
  readonly #key: Array<string | undefined>;
  readonly #reason: Array<string | undefined>;
  readonly #faultId: Array<string | undefined>;
  readonly #faultAction: Array<FaultAction | undefined>;
  #next = 0;
  #size = 0;
  /** Records pushed since the start: the newest one's sequence number (the first is 1). */
  #total = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#at = new Float64Array(capacity);
    this.#latency = new Float32Array(capacity);
    this.#port = new Uint16Array(capacity);
    this.#id = new Uint16Array(capacity);
    this.#qtype = new Int32Array(capacity);
    this.#rcode = new Int8Array(capacity);
    this.#answers = new Uint16Array(capacity);
    this.#bits = new Uint8Array(capacity);
    this.#edns = new Int32Array(capacity);
    this.#address = new Array(capacity);
    this.#qname = new Array(capacity);
    this.#kind = new Array(capacity);
    this.#key = new Array(capacity);
    this.#reason = new Array(capacity);
    this.#faultId = new Array(capacity);
    this.#faultAction = new Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** The sequence number of the newest record (0 when none). */
  get total(): number {
    return this.#total;
  }

  /** The oldest sequence number still held. */
  get oldest(): number {
    return this.#total - this.#size + 1;
  }

  push(r: LogRecord): void {
    const i = this.#next;
    this.#at[i] = r.at;
    this.#latency[i] = r.latencyMs;
    this.#port[i] = r.port;
    this.#id[i] = r.id;
    this.#qtype[i] = r.qtype ?? -1;
    this.#rcode[i] = r.rcode ?? -1;
    this.#answers[i] = r.answers;
    const wire = r.qname === undefined && r.qnameWire !== undefined;
    this.#bits[i] = (r.tcp ? TCP : 0) | (r.rd ? RD : 0) | (r.dnssecOk ? DO : 0) | (r.tc ? TC : 0) | (wire ? WIRE : 0);
    this.#edns[i] = r.ednsSize ?? -1;
    this.#address[i] = r.address;
    this.#qname[i] = wire ? r.qnameWire : r.qname;
    this.#kind[i] = r.kind;
    this.#key[i] = r.key;
    this.#reason[i] = r.reason;
    this.#faultId[i] = r.faultId;
    this.#faultAction[i] = r.faultAction;
    this.#next = (i + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
    this.#total++;
  }

  /** Where record `seq` lives (the caller checks it is still held: `oldest` ≤ seq ≤ `total`). */
  #slot(seq: number): number {
    return (seq - 1) % this.capacity;
  }

  /** The record with this sequence number. */
  bySeq(seq: number): LogRecord {
    return this.#read(this.#slot(seq));
  }

  /** Its name column, and whether that is the wire form, without building the record (for filters). */
  nameOf(seq: number): string | undefined {
    return this.#qname[this.#slot(seq)];
  }

  isWire(seq: number): boolean {
    return (this.#bits[this.#slot(seq)]! & WIRE) !== 0;
  }

  qtypeOf(seq: number): number {
    return this.#qtype[this.#slot(seq)]!;
  }

  timeOf(seq: number): number {
    return this.#at[this.#slot(seq)]!;
  }

  #read(i: number): LogRecord {
    const bits = this.#bits[i]!;
    const qtype = this.#qtype[i]!;
    const rcode = this.#rcode[i]!;
    const edns = this.#edns[i]!;
    return {
      at: this.#at[i]!, address: this.#address[i]!, port: this.#port[i]!, tcp: (bits & TCP) !== 0, id: this.#id[i]!, kind: this.#kind[i]!,
      qname: bits & WIRE ? undefined : this.#qname[i], qnameWire: bits & WIRE ? this.#qname[i] : undefined, qtype: qtype < 0 ? undefined : qtype, rd: (bits & RD) !== 0, ednsSize: edns < 0 ? null : edns, dnssecOk: (bits & DO) !== 0,
      rcode: rcode < 0 ? null : rcode, answers: this.#answers[i]!, tc: (bits & TC) !== 0, latencyMs: this.#latency[i]!,
      faultId: this.#faultId[i], faultAction: this.#faultAction[i], key: this.#key[i], reason: this.#reason[i],
    };
  }
}
