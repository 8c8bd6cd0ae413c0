import { CLASS, OPCODE, RCODE, TYPE, emptyMessage, type ResourceRecord } from '@kmslab/dns-wire';
import { describe, expect, test } from 'vitest';
import { defaultZone } from '../zone/default-zone.js';
import { ZoneSet } from '../zone/zone-set.js';
import { applyUpdate } from './apply-update.js';
import { Ownership, parseGrant, parseGroup } from './ownership.js';

const ZONE_GRANT = [{ kind: 'zone' as const }];
const srv = (target: string, cls: number = CLASS.IN): ResourceRecord => ({ name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, class: cls, ttl: cls === CLASS.IN ? 600 : 0, data: { type: 'SRV', priority: 0, weight: 0, port: 1688, target } });
const a = (name: string): ResourceRecord => ({ name, type: TYPE.A, class: CLASS.IN, ttl: 600, data: { type: 'A', address: '127.0.0.1' } });

function lab(...secure: string[]) {
  const zones = new ZoneSet();
  zones.add(defaultZone('lab.test'));
  zones.add(defaultZone('open.test'));
  const ownership = new Ownership({ secureZones: secure });
  /** One update as `key`, applied as the server does (the copy taken over when changed). */
  const update = (key: string, records: ResourceRecord[], zone = 'lab.test') => {
    const m = emptyMessage(1);
    m.opcode = OPCODE.UPDATE;
    m.questions = [{ name: zone, type: TYPE.SOA, class: CLASS.IN }];
    m.authorities = records;
    const out = applyUpdate(m, zones, ZONE_GRANT, { owners: { ownership, key } });
    if (out.changed || out.touched) zones.get(zone)!.takeOver(out.zone!);
    return out;
  };
  return { zones, ownership, update, zone: (z = 'lab.test') => zones.get(z)! };
}

describe('record ownership in secure zones (AD-integrated zones: the creator owns a name)', () => {
  test("the key that creates a name owns it; another key's change to it is REFUSED (not-owner) and changes nothing", () => {
    const { update, zone } = lab('lab.test');
    expect(update('kms1', [srv('kms1.lab.test'), a('kms1.lab.test')])).toMatchObject({ rcode: RCODE.NOERROR, changed: true });
    expect(zone().owners()).toEqual([['_vlmcs._tcp.lab.test', 'kms1'], ['kms1.lab.test', 'kms1']]);
    const serial = zone().serial;
    // kms2's own address is a new name (its own), but the SRV name is kms1's: the whole update is refused (RFC 2136 prescan).
    expect(update('kms2', [srv('kms2.lab.test'), a('kms2.lab.test')])).toMatchObject({ rcode: RCODE.REFUSED, reason: 'not-owner', detail: '_vlmcs._tcp.lab.test belongs to key kms1' });
    expect(update('kms2', [srv('kms1.lab.test', CLASS.NONE)])).toMatchObject({ rcode: RCODE.REFUSED, reason: 'not-owner' });
    expect(zone().serial).toBe(serial);
    expect(zone().rrset('_vlmcs._tcp.lab.test', TYPE.SRV)?.records).toHaveLength(1);
    // Its owner may change it, in any case of the key's name.
    expect(update('KMS1', [srv('kms1b.lab.test')])).toMatchObject({ rcode: RCODE.NOERROR, changed: true });
  });

  test('a group granted on the name lets its keys change it, whoever owns it; keys outside the group still may not', () => {
    const { update, zone, ownership } = lab('lab.test');
    update('kms1', [srv('kms1.lab.test')]);
    ownership.update({ groups: { 'kms-hosts': ['kms1', 'kms2'] }, grants: { '_vlmcs._tcp.lab.test': ['kms-hosts'] } });
    expect(update('kms2', [srv('kms2.lab.test')])).toMatchObject({ rcode: RCODE.NOERROR, changed: true });
    expect(zone().owner('_vlmcs._tcp.lab.test')).toBe('kms1'); // granting does not change the owner
    expect(update('kms3', [srv('kms3.lab.test')])).toMatchObject({ rcode: RCODE.REFUSED, reason: 'not-owner' });
    expect(ownership.state()).toEqual({ secureZones: ['lab.test'], groups: { 'kms-hosts': ['kms1', 'kms2'] }, grants: { '_vlmcs._tcp.lab.test': ['kms-hosts'] } });
  });

  test('a name emptied by its owner is nobody\'s again; a zone that is not secure, and static names, are judged by the key\'s grants alone', () => {
    const { update, zone } = lab('lab.test');
    update('kms1', [srv('kms1.lab.test')]);
    update('kms1', [srv('kms1.lab.test', CLASS.NONE)]);
    expect(zone().owner('_vlmcs._tcp.lab.test')).toBeNull();
    expect(update('kms2', [srv('kms2.lab.test')])).toMatchObject({ rcode: RCODE.NOERROR, changed: true });
    expect(zone().owner('_vlmcs._tcp.lab.test')).toBe('kms2');
    // ns.lab.test came with the zone (static): nobody owns it.
    expect(update('kms3', [a('ns.lab.test')])).toMatchObject({ rcode: RCODE.NOERROR });
    expect(zone().owner('ns.lab.test')).toBeNull();
    update('kms1', [a('x.open.test')], 'open.test');
    expect(update('kms2', [a('x.open.test')], 'open.test')).toMatchObject({ rcode: RCODE.NOERROR });
    expect(zone('open.test').owners()).toEqual([]);
  });

  test('groups and grants: one-line errors for bad flags and names; a change the data dir cannot keep does not take effect', () => {
    expect(parseGroup('kms-hosts=kms1, kms2')).toEqual({ group: 'kms-hosts', keys: ['kms1', 'kms2'] });
    expect(parseGrant('_vlmcs._tcp.lab.test=kms-hosts')).toEqual({ name: '_vlmcs._tcp.lab.test', group: 'kms-hosts' });
    expect(() => parseGroup('kms-hosts')).toThrow(/--group "kms-hosts": must be NAME=KEY\[,KEY…\]/);
    expect(() => parseGrant('_vlmcs._tcp.lab.test')).toThrow(/--grant .* must be DNSNAME=GROUP/);
    expect(() => new Ownership({ groups: { 'bad group!': ['kms1'] } })).toThrow(/group name "bad group!" must be/);
    expect(() => new Ownership({ groups: { g: [] } })).toThrow(/needs at least one key/);
    const o = new Ownership();
    o.persist = () => {
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    };
    expect(() => o.update({ groups: { g: ['kms1'] } })).toThrow(/no space/);
    expect(o.state().groups).toEqual({});
  });
});
