import { KmsLabError } from '@kmslab/core';
import { addressBytes, maskBytes, parsePrefix, type FaultNet } from '../harness/fault-rule.js';

/** `--allow-transfer CIDR`: a client prefix whose secondaries transfer without a key (BIND's `allow-transfer { 192.0.2.0/24; }`). */
export function parseTransferPrefix(text: string): FaultNet {
  const net = parsePrefix(text);
  if (!net) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `--allow-transfer "${text.slice(0, 60)}": must be an address or a prefix such as 127.0.0.0/8 or ::1/128`);
  return net;
}

/** Is `address` (as the socket reports it; IPv4-mapped IPv6 counts as IPv4) inside one of `prefixes`? */
export function inPrefixes(prefixes: readonly FaultNet[], address: string): boolean {
  const a = addressBytes(address);
  if (!a) return false;
  return prefixes.some((p) => p.family === a.family && maskBytes(a.bytes, p.prefix).equals(p.bytes));
}
