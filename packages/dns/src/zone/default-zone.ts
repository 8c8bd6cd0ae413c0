import { KmsLabError, isHostName } from '@kmslab/core';
import { CLASS, TYPE, canonicalName } from '@kmslab/dns-wire';
import { Zone } from './zone.js';

/**
 * A new zone with only what a zone needs: SOA and NS at the apex, and the
 * name server's address. kmslab hosts add their `_vlmcs._tcp` SRV records
 * by dynamic update. Serial: a date-based start (YYYYMMDD01).
 */
export function defaultZone(origin: string, options: { nsAddress?: string; now?: Date } = {}): Zone {
  const o = canonicalName(origin);
  if (!isHostName(o)) {
    throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `The zone "${origin.slice(0, 80)}" must be a DNS name such as lab.test (letters, digits, hyphens; labels of 1 to 63 characters)`);
  }
  const zone = new Zone(o);
  const d = options.now ?? new Date();
  const serial = Number(`${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}01`);
  const ns = o === '' ? 'ns' : `ns.${o}`;
  const add = (name: string, type: number, data: Parameters<Zone['add']>[0]['data']) => zone.add({ name, type, class: CLASS.IN, ttl: 3600, data }, { bumpSerial: false });
  add(o, TYPE.SOA, { type: 'SOA', mname: ns, rname: o === '' ? 'hostmaster' : `hostmaster.${o}`, serial, refresh: 3600, retry: 600, expire: 604800, minimum: 300 });
  add(o, TYPE.NS, { type: 'NS', target: ns });
  add(ns, TYPE.A, { type: 'A', address: options.nsAddress ?? '127.0.0.1' });
  return zone;
}
