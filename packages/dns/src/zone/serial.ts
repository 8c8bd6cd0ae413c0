/** RFC 1982 §3.2: is serial `a` greater than `b` in 32-bit serial arithmetic? (Equal, or 2^31 apart, is not.) */
export function serialGreater(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d > 0 && d < 2 ** 31;
}
