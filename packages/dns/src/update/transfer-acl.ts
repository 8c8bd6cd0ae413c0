import { KmsLabError } from '@kmslab/core';
import { addressBytes, maskBytes, type FaultNet } from '../harness/fault-rule.js';

/** `--allow-transfer CIDR`: a client prefix whose secondaries transfer without a key (BIND's `allow-transfer { 192.0.2.0/24; }`). */
export function parseTransferPrefix(text: string): FaultNet {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  const parsed = m && !m[1]!.includes('%') ? addressBytes(m[1]!) : null;
  const max = parsed?.family === 6 ? 128 : 32;
  const prefix = m?.[2] === undefined ? max : Number(m[2]);
  if (!m || !parsed || prefix > max) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `--allow-transfer "${text.slice(0, 60)}": must be an address or a prefix such as 127.0.0.0/8 or ::1/128`);
  return { ...parsed, bytes: maskBytes(parsed.bytes, prefix), prefix };
}

/** Is `address` (as the socket reports it; IPv4-mapped IPv6 counts as IPv4) inside one of `prefixes`? */
export function inPrefixes(prefixes: readonly FaultNet[], address: string): boolean {
  const a = addressBytes(address);
  if (!a) return false;
  return prefixes.some((p) => p.family === a.family && maskBytes(a.bytes, p.prefix).equals(p.bytes));
}
