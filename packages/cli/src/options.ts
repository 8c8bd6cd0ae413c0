import { KmsLabError } from '@kmslab/core';

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function intOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${name} must be a whole number from ${min} to ${max} (got "${value}")`);
    }
    return n;
  };
}

/** `HOST[:PORT]`, with `[v6]:port` for IPv6. */
export function parseHostAndPort(value: string, defaultPort: number): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(value) ?? (value.includes('::') ? [value, value, undefined, undefined] : null);
  const port = m?.[3] === undefined ? defaultPort : Number(m[3]);
  if (!m || port < 1 || port > 65535) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `"${value}" is not HOST[:PORT]`);
  return { host: (m[1] ?? m[2])!, port };
}
