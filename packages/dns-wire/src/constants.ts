/** DNS numbers (RFC 1035, 2136, 2782, 3596, 6891, 8945). */
export const TYPE = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, TSIG: 250, IXFR: 251, AXFR: 252, ANY: 255,
} as const;
/** The name of a record type. */
export type TypeName = keyof typeof TYPE;

/** DNS class numbers. */
export const CLASS = { IN: 1, NONE: 254, ANY: 255 } as const;

/** DNS rcodes. */
export const RCODE = {
  NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5,
  YXDOMAIN: 6, YXRRSET: 7, NXRRSET: 8, NOTAUTH: 9, NOTZONE: 10,
} as const;
/** The name of an rcode. */
export type RcodeName = keyof typeof RCODE;

/** DNS opcodes kmslab handles. */
export const OPCODE = { QUERY: 0, NOTIFY: 4, UPDATE: 5 } as const;

const TYPE_NAMES = new Map<number, string>(Object.entries(TYPE).map(([k, v]) => [v, k]));
const RCODE_NAMES = new Map<number, string>(Object.entries(RCODE).map(([k, v]) => [v, k]));

/** The name of a record type number (`TYPE99` for unknown ones). */
export function typeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `TYPE${type}`;
}

/** The name of an rcode number (`RCODE7` for unknown ones). */
export function rcodeName(rcode: number): string {
  return RCODE_NAMES.get(rcode) ?? `RCODE${rcode}`;
}

/** Types this server holds in its zones (issue: SOA, NS, A, AAAA, SRV, TXT, CNAME). */
export const ZONE_TYPES: ReadonlySet<number> = new Set([TYPE.SOA, TYPE.NS, TYPE.A, TYPE.AAAA, TYPE.SRV, TYPE.TXT, TYPE.CNAME]);

/** A plain DNS message over UDP without EDNS: RFC 1035 §4.2.1. */
export const CLASSIC_UDP_SIZE = 512;
