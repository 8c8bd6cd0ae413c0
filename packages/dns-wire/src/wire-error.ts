/** A message that cannot be read or written; the server answers FORMERR or drops it. */
export class DnsWireError extends Error {
  override readonly name = 'DnsWireError';
}
