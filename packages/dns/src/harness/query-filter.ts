import { TYPE } from '@kmslab/dns-wire';
import { wireName } from '../wire-name.js';

/** Which logged queries to return. */
export interface QueryFilter {
  /** Exact name, or `*.suffix`. */
  name?: string;
  type?: string;
  /** Entries at or after this time (ms). */
  since?: number;
  /** Only entries older than this sequence number (the page before one already read). */
  before?: number;
  /** Only entries newer than this sequence number (what came after one already read). */
  after?: number;
  /** The newest `limit` matches (default 100, at most MAX_PAGE). */
  limit?: number;
}

/** A filter made ready to test entries in their columns: both name forms the ring holds, the type as a number. */
export interface CompiledFilter {
  /** Dotted, lower case: the exact name, or the suffix with its leading dot. */
  dotted: string | null;
  /** The same in wire form, for names the fast path kept so. */
  wire: string | null;
  suffix: boolean;
  /** -2 matches nothing (a type name no one knows; the ring holds -1 for none). */
  type: number | undefined;
}

const UPPER = /[A-Z]/;

export function compileFilter(f: Pick<QueryFilter, 'name' | 'type'>): CompiledFilter {
  const type = f.type ? ((TYPE as Record<string, number>)[f.type.toUpperCase()] ?? -2) : undefined;
  if (!f.name) return { dotted: null, wire: null, suffix: false, type };
  const suffix = f.name.startsWith('*.');
  const name = (suffix ? f.name.slice(2) : f.name).toLowerCase().replace(/\.$/, '');
  // Wire form of a suffix: its labels and the root, which a longer name ends with.
  return { dotted: suffix ? `.${name}` : name, wire: wireName(name), suffix, type };
}

/** Does a logged name (dotted or wire form, as spelled) pass the filter's name? Names compare case-insensitively (RFC 4343). */
export function nameMatches(f: CompiledFilter, name: string | undefined, isWire: boolean): boolean {
  if (f.dotted === null) return true;
  if (name === undefined) return false;
  if (isWire) {
    // Label lengths (at most 63) are never ASCII letters, so lower-casing a wire name touches its letters only.
    const n = UPPER.test(name) ? name.toLowerCase() : name;
    return f.suffix ? n.length > f.wire!.length && n.endsWith(f.wire!) : n === f.wire;
  }
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (!f.suffix) return n.length === f.dotted.length && (n === f.dotted || n.toLowerCase() === f.dotted);
  return n.length > f.dotted.length && n.slice(-f.dotted.length).toLowerCase() === f.dotted;
}
