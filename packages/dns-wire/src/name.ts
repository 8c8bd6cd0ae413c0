import { dnsWireError } from './wire-error.js';

/**
 * Names are kept as lower-case dotted text without the trailing dot ("" is
 * the root). DNS compares names case-insensitively (RFC 4343); answers echo
 * the question's spelling where they repeat it.
 */
export function canonicalName(name: string): string {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  return n.toLowerCase();
}

/** True when `name` is `zone` or below it (canonical names). */
export function isSubdomain(name: string, zone: string): boolean {
  return zone === '' || name === zone || name.endsWith(`.${zone}`);
}

/** Validates label and name lengths (RFC 1035 §2.3.4) and returns the labels. */
export function nameLabels(name: string): string[] {
  if (name === '' || name === '.') return [];
  const labels = (name.endsWith('.') ? name.slice(0, -1) : name).split('.');
  let octets = 1;
  for (const l of labels) {
    if (l.length === 0 || l.length > 63) throw dnsWireError(`label "${l}" in "${name}" must be 1 to 63 octets`);
    octets += l.length + 1;
  }
  if (octets > 255) throw dnsWireError(`name "${name}" is longer than 255 octets`);
  return labels;
}
