import { CLASS, RCODE, TYPE, ZONE_TYPES, canonicalName, type Message, type ResourceRecord } from '@kmslab/dns-wire';
import { rdataKey, type Zone } from '../zone/zone.js';
import type { ZoneSet } from '../zone/zone-set.js';
import { allowed, type Grant } from './policy.js';
import type { Ownership } from './ownership.js';
import type { Aging } from '../zone/aging.js';
import { serialGreater } from '../zone/serial.js';

export interface UpdateOutcome {
  rcode: number;
  /** The zone the update named; when `changed`, a changed copy that is not served yet (the caller saves it, then the served zone takes it over). */
  zone: Zone | null;
  /** True when the update changed the zone (the copy's serial went up once). */
  changed: boolean;
  /** True when only timestamps changed (a refresh past the no-refresh interval): saved, the serial left alone. */
  touched?: boolean;
  reason?: string;
  /** More about the reason, for the log (a `not-owner` refusal: whose the name is). */
  detail?: string;
}

/** What else judges an update: record ownership in secure zones, and record timestamps for aging. */
export interface UpdateRules {
  owners?: { ownership: Ownership; key: string } | undefined;
  aging?: { aging: Aging; now: number } | undefined;
}

const META_TYPES = new Set([TYPE.ANY, TYPE.AXFR, TYPE.IXFR, TYPE.OPT, TYPE.TSIG, 253, 254]);

/**
 * RFC 2136 dynamic update: zone section, prerequisites (§3.2), a prescan of
 * every update record and the key's policy (§3.4.1), then all changes at once
 * with one serial step (§3.4.2, §3.6), made to a copy of the zone: the served
 * zone changes only when the caller has saved the copy (§3.5: the update is
 * answered only once it is stable), so anything refused, or not saved,
 * changes nothing.
 */
export function applyUpdate(req: Message, zones: ZoneSet, grants: readonly Grant[], o: UpdateRules = {}): UpdateOutcome {
  const owners = o.owners;
  const fail = (rcode: number, reason: string, zone: Zone | null = null): UpdateOutcome => ({ rcode, zone, changed: false, reason });
  if (req.questions.length !== 1 || req.questions[0]!.type !== TYPE.SOA) return fail(RCODE.FORMERR, 'the zone section must hold one SOA question');
  const served = zones.get(req.questions[0]!.name);
  if (!served || served.origin !== canonicalName(req.questions[0]!.name)) return fail(RCODE.NOTAUTH, `not authoritative for ${req.questions[0]!.name}`);

  const prereq = checkPrerequisites(req.answers, served);
  if (prereq) return { ...prereq, zone: served, changed: false };

  for (const rr of req.authorities) {
    if (!served.contains(rr.name)) return fail(RCODE.NOTZONE, `${rr.name} is outside zone ${served.origin}`, served);
    if (rr.class === CLASS.IN) {
      if (META_TYPES.has(rr.type) || !rr.data) return fail(RCODE.FORMERR, `cannot add a record of type ${rr.type}`, served);
      if (!ZONE_TYPES.has(rr.type)) return fail(RCODE.REFUSED, `this server does not hold records of type ${rr.type}`, served);
    } else if (rr.class === CLASS.ANY) {
      if (rr.ttl !== 0 || rr.data || (META_TYPES.has(rr.type) && rr.type !== TYPE.ANY)) return fail(RCODE.FORMERR, 'a delete must have TTL 0 and no data', served);
    } else if (rr.class === CLASS.NONE) {
      if (rr.ttl !== 0 || META_TYPES.has(rr.type)) return fail(RCODE.FORMERR, 'a record delete must have TTL 0 and a real type', served);
    } else return fail(RCODE.FORMERR, `class ${rr.class} in the update section`, served);
    if (!allowed(grants, served, rr)) return fail(RCODE.REFUSED, `the key may not change ${rr.name} (type ${rr.type})`, served);
    // A secure zone: a name another key created is that key's, unless this key's group is granted on it.
    const owner = owners?.ownership.refusal(served, rr.name, owners.key);
    if (owner) return { ...fail(RCODE.REFUSED, 'not-owner', served), detail: `${canonicalName(rr.name)} belongs to key ${owner}` };
  }

  const zone = served.clone();
  let changed = false;
  for (const rr of req.authorities) {
    const name = canonicalName(rr.name);
    if (rr.class === CLASS.IN) {
      if (rr.type === TYPE.SOA) {
        // §3.4.2.2: a new SOA only replaces the old one when its serial is greater.
        const serial = (rr.data as { serial: number }).serial;
        if (name !== zone.origin || !serialGreater(serial, zone.serial)) continue;
      }
      const node = { cname: zone.rrset(name, TYPE.CNAME), other: [TYPE.A, TYPE.AAAA, TYPE.SRV, TYPE.TXT, TYPE.NS].some((t) => zone.rrset(name, t)) };
      // §3.4.2.2: CNAME and other data never share a name.
      if ((rr.type === TYPE.CNAME && node.other) || (rr.type !== TYPE.CNAME && node.cname)) continue;
      changed = zone.add(rr, { bumpSerial: false }) || changed;
    } else if (rr.class === CLASS.ANY) {
      changed = zone.delete(name, rr.type, null, { bumpSerial: false }) > 0 || changed;
    } else {
      if (rr.type === TYPE.SOA || !rr.data) continue;
      changed = zone.delete(name, rr.type, rr.data, { bumpSerial: false }) > 0 || changed;
    }
  }
  // Timestamps of what it added or refreshed (zone/aging.ts): a refresh may change nothing but a timestamp.
  const touched = o.aging ? o.aging.aging.stampUpdate(served, zone, req.authorities.filter((rr) => rr.class === CLASS.IN), o.aging.now) : false;
  if (!changed) return touched ? { rcode: RCODE.NOERROR, zone, changed: false, touched } : { rcode: RCODE.NOERROR, zone: served, changed: false };
  owners?.ownership.claim(served, zone, req.authorities.map((rr) => rr.name), owners.key);
  zone.bumpSerial();
  return { rcode: RCODE.NOERROR, zone, changed: true };
}

function checkPrerequisites(prereqs: readonly ResourceRecord[], zone: Zone): { rcode: number; reason: string } | null {
  const valueSets = new Map<string, { name: string; type: number; keys: Set<string> }>();
  for (const rr of prereqs) {
    if (rr.ttl !== 0) return { rcode: RCODE.FORMERR, reason: 'a prerequisite must have TTL 0' };
    if (!zone.contains(rr.name)) return { rcode: RCODE.NOTZONE, reason: `${rr.name} is outside zone ${zone.origin}` };
    const name = canonicalName(rr.name);
    if (rr.class === CLASS.ANY || rr.class === CLASS.NONE) {
      if (rr.data) return { rcode: RCODE.FORMERR, reason: 'an existence prerequisite has no data' };
      const exists = rr.type === TYPE.ANY ? zone.nameExists(name) && hasData(zone, name) : zone.rrset(name, rr.type) !== undefined;
      if (rr.class === CLASS.ANY && !exists) return { rcode: rr.type === TYPE.ANY ? RCODE.NXDOMAIN : RCODE.NXRRSET, reason: `prerequisite failed: ${rr.name} has no ${rr.type === TYPE.ANY ? 'records' : `type ${rr.type}`}` };
      if (rr.class === CLASS.NONE && exists) return { rcode: rr.type === TYPE.ANY ? RCODE.YXDOMAIN : RCODE.YXRRSET, reason: `prerequisite failed: ${rr.name} is in use` };
    } else if (rr.class === CLASS.IN) {
      if (!rr.data) return { rcode: RCODE.FORMERR, reason: 'a value prerequisite needs data' };
      const k = `${name}/${rr.type}`;
      let set = valueSets.get(k);
      if (!set) valueSets.set(k, (set = { name, type: rr.type, keys: new Set() }));
      set.keys.add(rdataKey(rr.data));
    } else return { rcode: RCODE.FORMERR, reason: `class ${rr.class} in the prerequisite section` };
  }
  for (const { name, type, keys } of valueSets.values()) {
    const have = new Set((zone.rrset(name, type)?.records ?? []).map(rdataKey));
    if (have.size !== keys.size || [...keys].some((k) => !have.has(k))) return { rcode: RCODE.NXRRSET, reason: `prerequisite failed: ${name} type ${type} differs` };
  }
  return null;
}

function hasData(zone: Zone, name: string): boolean {
  return [...ZONE_TYPES].some((t) => zone.rrset(name, t) !== undefined);
}
