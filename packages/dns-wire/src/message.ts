/** DNS message as kmslab handles it (RFC 1035 §4.1; EDNS RFC 6891; TSIG RFC 8945). */

export type RData =
  | { type: 'A' | 'AAAA'; address: string }
  | { type: 'NS' | 'CNAME' | 'PTR'; target: string }
  | { type: 'SOA'; mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }
  | { type: 'SRV'; priority: number; weight: number; port: number; target: string }
  | { type: 'TXT'; texts: string[] }
  | { type: 'TSIG'; algorithm: string; timeSigned: number; fudge: number; mac: Buffer; originalId: number; error: number; other: Buffer }
  | { type: 'RAW'; raw: Buffer };

/** One resource record. */
export interface ResourceRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** null: an empty RDATA (RFC 2136 deletes and prerequisites use it). */
  data: RData | null;
}

/** One question of a message. */
export interface Question {
  name: string;
  type: number;
  class: number;
}

/** The OPT record's fields (RFC 6891). */
export interface Edns {
  udpSize: number;
  version: number;
  dnssecOk: boolean;
  extendedRcode: number;
}

/** A DNS message as kmslab reads and writes it. */
export interface Message {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  /** The low 4 bits; with EDNS the high bits are in `edns.extendedRcode`. */
  rcode: number;
  questions: Question[];
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  /** Additional records other than OPT and TSIG. */
  additionals: ResourceRecord[];
  edns: Edns | null;
  /** The TSIG record, which must be the last additional record (RFC 8945 §5.1). */
  tsig: ResourceRecord | null;
  /** Where the TSIG record starts in the raw message (for verifying its MAC). */
  tsigOffset: number;
}

/** A message with no records and every flag clear. */
export function emptyMessage(id = 0): Message {
  return {
    id, qr: false, opcode: 0, aa: false, tc: false, rd: false, ra: false, rcode: 0,
    questions: [], answers: [], authorities: [], additionals: [], edns: null, tsig: null, tsigOffset: -1,
  };
}
