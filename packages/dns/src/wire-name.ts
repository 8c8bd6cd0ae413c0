/**
 * A name's two forms on the server's paths: dotted (`lab.test`) and wire
 * (`\x03lab\x04test\x00`, the labels as one latin1 string; lower case in the
 * answer cache, as the client spelled it in the query log). The
 * fast path keeps names in wire form and makes a dotted one only when someone
 * reads it (the query log, a fault rule that may match).
 */

/** `\x03lab\x04test\x00` → `lab.test`. */
export function dottedName(wire: string): string {
  let name = '';
  for (let o = 0, len = wire.charCodeAt(0); len > 0; o += 1 + len, len = wire.charCodeAt(o)) {
    name += (o === 0 ? '' : '.') + wire.slice(o + 1, o + 1 + len);
  }
  return name;
}

/** `lab.test` (canonical: lower case, no trailing dot) → `\x03lab\x04test\x00`. */
export function wireName(name: string): string {
  return `${name === '' ? '' : name.split('.').map((l) => String.fromCharCode(l.length) + l).join('')}\x00`;
}
