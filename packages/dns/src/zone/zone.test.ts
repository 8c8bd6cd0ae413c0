import { CLASS, TYPE } from '@kmslab/dns-wire';
import { describe, expect, test } from 'vitest';
import { parseZoneFile } from './zone-file.js';
import { Zone } from './zone.js';

const text = `
$ORIGIN lab.test.
$TTL 1h
@   IN SOA ns hostmaster ( 7   ; serial
           3600 600 1w 300 )
    NS ns
ns  A 127.0.0.1
_vlmcs._tcp 600 IN SRV 0 0 1688 kms1
kms1 IN 60 AAAA FD00::0011
txt TXT "a \\"quoted\\" string" plain
`;

describe('zone files (RFC 1035 §5)', () => {
  test('origin, $TTL with units, parentheses, comments, blank owner, TTL and class in either order', () => {
    const { origin, records } = parseZoneFile(text);
    expect(origin).toBe('lab.test');
    expect(records.map((r) => [r.name, r.type, r.ttl])).toEqual([
      ['lab.test', TYPE.SOA, 3600], ['lab.test', TYPE.NS, 3600], ['ns.lab.test', TYPE.A, 3600],
      ['_vlmcs._tcp.lab.test', TYPE.SRV, 600], ['kms1.lab.test', TYPE.AAAA, 60], ['txt.lab.test', TYPE.TXT, 3600],
    ]);
    expect(records[0]!.data).toMatchObject({ mname: 'ns.lab.test', rname: 'hostmaster.lab.test', serial: 7, expire: 604800 });
    expect(records[5]!.data).toEqual({ type: 'TXT', texts: ['a "quoted" string', 'plain'] });
  });

  test('errors name the line', () => {
    expect(() => parseZoneFile('$ORIGIN lab.test.\n@ 60 SOA ns h 1 2 3 4 5\nbad 60 A 300.1.1.1\n', { source: 'z.db' })).toThrow(/z\.db line 3: the A record's address is not an IPv4 address/);
    expect(() => parseZoneFile('$ORIGIN lab.test.\n@ 60 SOA ns h 1 2 3 4 5\nx 60 MX 10 mail\n')).toThrow(/line 3: not a record kmslab reads: OWNER \[TTL\] \[IN\] TYPE DATA, with TYPE one of SOA NS A AAAA SRV TXT CNAME/);
    expect(() => parseZoneFile('$ORIGIN lab.test.\n@ 60 SOA ns h ( 1 2 3 4 5\n')).toThrow(/never closed/);
    expect(() => parseZoneFile('$ORIGIN lab.test.\nns 60 A 1.2.3.4\n')).toThrow(/no SOA/);
  });
});

describe('Zone', () => {
  const zone = () => {
    const z = new Zone('lab.test');
    for (const rr of parseZoneFile(text).records) z.add(rr, { bumpSerial: false });
    return z;
  };

  test('every change bumps the SOA serial; a duplicate is not a change', () => {
    const z = zone();
    expect(z.serial).toBe(7);
    expect(z.add({ name: 'ns.lab.test', type: TYPE.A, class: CLASS.IN, ttl: 60, data: { type: 'A', address: '127.0.0.1' } })).toBe(false);
    expect(z.serial).toBe(7);
    z.add({ name: 'kms2.lab.test', type: TYPE.A, class: CLASS.IN, ttl: 60, data: { type: 'A', address: '127.0.0.2' } });
    expect(z.serial).toBe(8);
    expect(z.delete('kms2.lab.test', TYPE.A)).toBe(1);
    expect(z.serial).toBe(9);
    expect(z.delete('kms2.lab.test', TYPE.A)).toBe(0);
    expect(z.serial).toBe(9);
  });

  test('AAAA duplicates are found whatever the spelling; apex SOA and NS survive a delete of everything', () => {
    const z = zone();
    expect(z.add({ name: 'KMS1.lab.test', type: TYPE.AAAA, class: 1, ttl: 60, data: { type: 'AAAA', address: 'fd00:0:0:0:0:0:0:11' } })).toBe(false);
    z.delete('lab.test', TYPE.ANY);
    expect(z.rrset('lab.test', TYPE.SOA)).toBeDefined();
    expect(z.rrset('lab.test', TYPE.NS)).toBeDefined();
  });

  test('lookups: answer, NODATA, NXDOMAIN, empty non-terminal', () => {
    const z = zone();
    expect(z.lookup('_VLMCS._tcp.lab.test', TYPE.SRV)).toMatchObject({ kind: 'answer', additionals: [{ type: TYPE.AAAA }] });
    expect(z.lookup('_tcp.lab.test', TYPE.SRV).kind).toBe('nodata');
    expect(z.lookup('nope.lab.test', TYPE.A).kind).toBe('nxdomain');
    z.delete('_vlmcs._tcp.lab.test', TYPE.SRV);
    expect(z.lookup('_tcp.lab.test', TYPE.SRV).kind).toBe('nxdomain');
  });

  test("a clone and its source share records until either changes a name (copy on write): neither sees the other's change", () => {
    const served = zone();
    served.setStamp('kms1.lab.test', TYPE.AAAA, { type: 'AAAA', address: 'fd00::11' }, 1000);
    const copy = served.clone();
    const rr = (name: string, address: string) => ({ name, type: TYPE.A, class: CLASS.IN, ttl: 60, data: { type: 'A' as const, address } });
    copy.add(rr('ns.lab.test', '127.0.0.2'));
    copy.delete('_vlmcs._tcp.lab.test', TYPE.SRV);
    copy.setStamp('kms1.lab.test', TYPE.AAAA, { type: 'AAAA', address: 'fd00::11' }, 2000);
    copy.add({ ...rr('ns.lab.test', '127.0.0.3'), ttl: 30 });
    expect(copy.serial).toBe(10);
    expect(served.serial).toBe(7);
    expect(served.rrset('ns.lab.test', TYPE.A)).toEqual({ ttl: 3600, records: [{ type: 'A', address: '127.0.0.1' }] });
    expect(served.lookup('_vlmcs._tcp.lab.test', TYPE.SRV).kind).toBe('answer');
    expect(served.stamp('kms1.lab.test', TYPE.AAAA, { type: 'AAAA', address: 'fd00::11' })).toBe(1000);
    expect(copy.rrset('ns.lab.test', TYPE.A)?.records).toHaveLength(3);
    expect(copy.stamp('kms1.lab.test', TYPE.AAAA, { type: 'AAAA', address: 'fd00::11' })).toBe(2000);
    // Names added and removed, owners set: the copy's tables, not the source's.
    copy.add(rr('a.b.lab.test', '192.0.2.9'));
    copy.setOwner('a.b.lab.test', 'kms2');
    copy.setOwner('ns.lab.test', 'kms1');
    expect([copy.nameExists('b.lab.test'), served.nameExists('b.lab.test'), served.nameExists('_tcp.lab.test'), copy.nameExists('_tcp.lab.test')]).toEqual([true, false, true, false]);
    expect([copy.owner('ns.lab.test'), served.owner('ns.lab.test'), served.owner('a.b.lab.test')]).toEqual(['kms1', null, null]);
    // The source changed after the clone: the copy keeps what it had.
    served.add(rr('kms1.lab.test', '192.0.2.1'));
    served.delete('txt.lab.test', TYPE.TXT);
    expect(copy.rrset('kms1.lab.test', TYPE.A)).toBeUndefined();
    expect(copy.rrset('txt.lab.test', TYPE.TXT)?.records).toHaveLength(1);
    // Taken over, the copy's state is served, and a later clone still copies before writing.
    served.takeOver(copy);
    const next = served.clone();
    next.add(rr('ns.lab.test', '127.0.0.4'));
    expect(served.rrset('ns.lab.test', TYPE.A)?.records).toHaveLength(3);
    expect(served.serial).toBe(11);
    next.delete('a.b.lab.test', TYPE.A);
    expect([served.nameExists('b.lab.test'), served.owner('a.b.lab.test'), next.nameExists('b.lab.test')]).toEqual([true, 'kms2', false]);
  });
});
