import { CLASS, TYPE, canonicalName, isSubdomain, parseTsigKey, type TsigKey, type ResourceRecord } from '@kmslab/dns-wire';
import { KMS_SRV_LABELS, KmsLabError } from '@kmslab/core';
import type { Zone } from '../zone/zone.js';

/**
 * What a key may change, like BIND's `update-policy` grants:
 * - `zone`: anything in the zone (BIND's `allow-update { key K; }`), the default;
 * - `name=FQDN`: records at exactly that name; `subdomain=FQDN`: at or below it;
 * - `host=FQDN`: what a KMS host publishing itself needs: `_vlmcs._tcp` SRV
 *   records whose target is FQDN, and FQDN's own A/AAAA records;
 * - `transfer`: zone transfers (AXFR) and no changes, for a secondary.
 * Transfers need `zone` or `transfer`: a host's key must not read the whole zone.
 */
export type Grant = { kind: 'zone' | 'transfer' } | { kind: 'name' | 'subdomain' | 'host'; name: string };

/** A TSIG key and the grants it holds. */
export interface KeyPolicy {
  key: TsigKey;
  grants: Grant[];
}

/** `NAME:ALG:SECRET[:GRANT[,GRANT…]]`, e.g. `kms1:hmac-sha256:c2VjcmV0:host=kms1.lab.test`. */
export function parseKeyPolicy(text: string): KeyPolicy {
  const parts = text.split(':');
  const key = parseTsigKey(parts.slice(0, 3).join(':'));
  if (parts.length > 4) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `TSIG key ${key.name}: too many ":" fields`);
  const grants = (parts[3] ?? 'zone').split(',').map((g): Grant => {
    if (g === 'zone' || g === 'transfer') return { kind: g };
    const m = /^(name|subdomain|host)=(.+)$/.exec(g);
    if (!m) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `TSIG key ${key.name}: grant "${g}" must be zone, transfer, name=FQDN, subdomain=FQDN or host=FQDN`);
    return { kind: m[1] as 'name' | 'subdomain' | 'host', name: canonicalName(m[2]!) };
  });
  return { key, grants };
}

/** May a key with these grants make this one change (an RFC 2136 update record) in `zone`? */
export function allowed(grants: readonly Grant[], zone: Zone, rr: ResourceRecord): boolean {
  const name = canonicalName(rr.name);
  return grants.some((g) => {
    switch (g.kind) {
      case 'zone':
        return true;
      case 'transfer':
        return false;
      case 'name':
        return name === g.name;
      case 'subdomain':
        return isSubdomain(name, g.name);
      case 'host':
        return hostMayChange(g.name, zone, name, rr);
    }
  });
}

/** AXFR: a `zone` or `transfer` grant. */
export function mayTransfer(grants: readonly Grant[]): boolean {
  return grants.some((g) => g.kind === 'zone' || g.kind === 'transfer');
}

function hostMayChange(host: string, zone: Zone, name: string, rr: ResourceRecord): boolean {
  if (name === host) return rr.type === TYPE.A || rr.type === TYPE.AAAA || (rr.type === TYPE.ANY && rr.class === CLASS.ANY);
  if (!name.startsWith(`${KMS_SRV_LABELS}.`) || rr.type !== TYPE.SRV) return false;
  if (rr.data?.type === 'SRV') return canonicalName(rr.data.target) === host;
  // Deleting the whole SRV RRset: only when every record in it is this host's own.
  return (zone.rrset(name, TYPE.SRV)?.records ?? []).every((d) => d.type === 'SRV' && canonicalName(d.target) === host);
}
