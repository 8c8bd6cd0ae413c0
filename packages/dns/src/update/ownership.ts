import { KmsLabError } from '@kmslab/core';
import { canonicalName } from '@kmslab/dns-wire';
import type { Zone } from '../zone/zone.js';

/** What `GET /grants` shows and the data dir keeps: secure zones, groups of keys, and the groups granted on each name. */
export interface OwnershipState {
  secureZones: string[];
  groups: Record<string, string[]>;
  grants: Record<string, string[]>;
}

/**
 * Record ownership in secure-only zones, as Active Directory-integrated zones
 * work (kms-reference.md "Publishing in Active Directory DNS"): the key whose
 * update creates a name owns it; an update from another key that touches an
 * owned name is REFUSED (reason `not-owner`) unless that key is in a group
 * granted on the name — AD's ACL on a DNS node, and Microsoft's fix for a
 * second KMS host ("Change the Default DNS Permissions for SRV Records"). A
 * name nobody owns (static records, or a zone that is not secure) is changed
 * under the key's grants alone.
 */
export class Ownership {
  readonly #secure = new Set<string>();
  readonly #groups = new Map<string, Set<string>>();
  readonly #grants = new Map<string, Set<string>>();

  constructor(init: Partial<OwnershipState> = {}) {
    for (const z of init.secureZones ?? []) this.#secure.add(canonicalName(z));
    for (const [g, keys] of Object.entries(init.groups ?? {})) this.addGroup(g, keys);
    for (const [name, groups] of Object.entries(init.grants ?? {})) for (const g of groups) this.grant(name, g);
  }

  /** Told the whole state before a change through `update` takes effect (the data dir keeps it); a throw refuses the change. */
  persist: ((state: OwnershipState) => void) | null = null;

  /**
   * Adds secure zones, groups (keys added to a group already there) and
   * grants at run time (`POST /grants`): all checked, kept (`persist`), then
   * in effect at once — the next update is judged by them — or none of them.
   */
  update(change: Partial<OwnershipState>): OwnershipState {
    const current = this.state();
    const next = new Ownership({
      secureZones: [...current.secureZones, ...(change.secureZones ?? [])],
      groups: merge(current.groups, change.groups),
      grants: merge(current.grants, change.grants),
    });
    const state = next.state();
    this.persist?.(state);
    for (const z of state.secureZones) this.#secure.add(z);
    for (const [g, keys] of Object.entries(state.groups)) this.#groups.set(g, new Set(keys));
    for (const [n, groups] of Object.entries(state.grants)) this.#grants.set(n, new Set(groups));
    return state;
  }

  /** Is any zone secure (the update path asks before doing anything)? */
  get active(): boolean {
    return this.#secure.size > 0;
  }

  isSecure(zone: string): boolean {
    return this.#secure.has(canonicalName(zone));
  }

  secure(zone: string): void {
    this.#secure.add(canonicalName(zone));
  }

  /** Adds keys to a group (made when new). */
  addGroup(group: string, keys: readonly string[]): void {
    checkLabel(group, 'group');
    if (keys.length === 0) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `Group ${group}: needs at least one key (NAME=KEY[,KEY…])`);
    const set = this.#groups.get(group) ?? new Set<string>();
    for (const k of keys) set.add(canonicalName(checkLabel(k, 'key')));
    this.#groups.set(group, set);
  }

  /** Grants `group` on `name`: its keys may change the name whoever owns it. */
  grant(name: string, group: string): void {
    checkLabel(group, 'group');
    const n = canonicalName(name);
    if (n === '' || n.length > 253) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `Grant on "${name}": not a DNS name`);
    const set = this.#grants.get(n) ?? new Set<string>();
    set.add(group);
    this.#grants.set(n, set);
  }

  /** Groups granted on `name`. */
  grantsOn(name: string): string[] {
    return [...(this.#grants.get(canonicalName(name)) ?? [])];
  }

  /** May `key` change `name` in `zone`? Null when it may; else who owns the name. */
  refusal(zone: Zone, name: string, key: string): string | null {
    if (!this.isSecure(zone.origin)) return null;
    const owner = zone.owner(name);
    if (owner === null || owner === canonicalName(key)) return null;
    const granted = [...(this.#grants.get(canonicalName(name)) ?? [])].some((g) => this.#groups.get(g)?.has(canonicalName(key)));
    return granted ? null : owner;
  }

  /** After an update applied to `after`: the names it created (no records before, records now) belong to `key`. */
  claim(before: Zone, after: Zone, names: Iterable<string>, key: string): void {
    if (!this.isSecure(after.origin)) return;
    for (const name of names) if (!before.hasRecords(name) && after.hasRecords(name)) after.setOwner(name, canonicalName(key));
  }

  state(): OwnershipState {
    return {
      secureZones: [...this.#secure].sort(),
      groups: Object.fromEntries([...this.#groups].sort(([a], [b]) => a.localeCompare(b)).map(([g, keys]) => [g, [...keys].sort()])),
      grants: Object.fromEntries([...this.#grants].sort(([a], [b]) => a.localeCompare(b)).map(([n, groups]) => [n, [...groups].sort()])),
    };
  }
}

function merge(a: Record<string, string[]>, b: Record<string, string[]> | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = { ...a };
  for (const [k, v] of Object.entries(b ?? {})) {
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `"${k.slice(0, 64)}": must be a list of names`);
    out[k] = [...(out[k] ?? []), ...v];
  }
  return out;
}

/** `--group NAME=KEY[,KEY…]`, e.g. `kms-hosts=kms1,kms2`. */
export function parseGroup(text: string): { group: string; keys: string[] } {
  const m = /^([^=]+)=(.+)$/.exec(text.trim());
  if (!m) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `--group "${text}": must be NAME=KEY[,KEY…], e.g. kms-hosts=kms1,kms2`);
  return { group: m[1]!.trim(), keys: m[2]!.split(',').map((k) => k.trim()).filter(Boolean) };
}

/** `--grant DNSNAME=GROUP`, e.g. `_vlmcs._tcp.lab.test=kms-hosts`. */
export function parseGrant(text: string): { name: string; group: string } {
  const m = /^([^=]+)=([^=,]+)$/.exec(text.trim());
  if (!m) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `--grant "${text}": must be DNSNAME=GROUP, e.g. _vlmcs._tcp.lab.test=kms-hosts`);
  return { name: m[1]!.trim(), group: m[2]!.trim() };
}

/**
 * A group's or a key's name as grants take it (1 to 63 letters, digits, ".",
 * "_" or "-"); throws a one-line KmsLabError naming `what` otherwise.
 */
export function checkLabel(text: string, what: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(text)) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `The ${what} name "${text.slice(0, 64)}" must be 1 to 63 letters, digits, ".", "_" or "-"`);
  return text;
}
