import { KmsLabError } from '@kmslab/core';

/** A DNS message that cannot be read or written (KMSLAB_DNS_MALFORMED); a server answers FORMERR or drops it. */
export function dnsWireError(message: string): KmsLabError {
  return new KmsLabError('KMSLAB_DNS_MALFORMED', message);
}
