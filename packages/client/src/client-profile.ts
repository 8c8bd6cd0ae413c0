import { kmsSrvName } from '@kmslab/core';

/**
 * What a client sends on the wire while it looks for a host.
 *
 * - `windows` (the default): as packet captures of a Windows 11 client show
 *   it (kms-reference.md "What a Windows client sends, as captured on the
 *   wire"): the SRV name in upper case, `_VLMCS._TCP.<domain>`, and — for a
 *   domain that comes from the machine's DNS suffixes rather than a lookup
 *   domain — the domain-controller locator query first,
 *   `_ldap._tcp.dc._msdcs.<WORKGROUP>.<domain>`.
 * - `plain`: `_vlmcs._tcp.<domain>` only, in lower case (kmslab before it
 *   measured Windows; what most scripts and emulators send).
 */
export type ClientProfile = 'windows' | 'plain';

/** Every profile, for flags and checks. */
export const CLIENT_PROFILES: readonly ClientProfile[] = ['windows', 'plain'];

/** A workgroup machine's workgroup when nobody set one: Windows' own default. */
export const DEFAULT_WORKGROUP = 'WORKGROUP';

/** The SRV name the profile asks in `domain` (no trailing dot). */
export function srvQueryName(domain: string, profile: ClientProfile): string {
  const name = kmsSrvName(domain);
  return profile === 'windows' ? `_VLMCS._TCP${name.slice('_vlmcs._tcp'.length)}` : name;
}

/**
 * The domain-controller locator query a Windows workgroup client sends before
 * its SRV query in a suffix domain (measured, not documented: it finds no
 * domain controller and goes on), or null when the profile sends none or the
 * domain is a configured lookup domain (`set-domain`, KeyManagementServiceLookupDomain).
 */
export function locatorQueryName(domain: string, o: { profile: ClientProfile; lookupDomain: boolean; workgroup: string }): string | null {
  if (o.profile !== 'windows' || o.lookupDomain) return null;
  return `_ldap._tcp.dc._msdcs.${o.workgroup}.${domain.replace(/\.$/, '')}`;
}
