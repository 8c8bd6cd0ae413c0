import { KmsLabError } from './errors.js';

/**
 * `HOST:PORT`, `HOST` (with `defaultPort`), `[v6]:PORT`, `[v6]`, or a bare
 * IPv6 address such as `::1` (with `defaultPort`). Port 0 ("pick a free one")
 * only for listeners (`allowPortZero`).
 */
export function parseHostPort(value: string, options: { defaultPort?: number; allowPortZero?: boolean; what?: string } = {}): { host: string; port: number } {
  const form = options.defaultPort === undefined ? 'HOST:PORT' : 'HOST[:PORT]';
  const fail = (): never => {
    throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${options.what ?? 'An address'} must be ${form} (got "${value}")`);
  };
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(value) ?? (value.includes('::') ? [value, value, undefined, undefined] : null);
  if (!m) return fail();
  const port = m[3] === undefined ? options.defaultPort : Number(m[3]);
  if (port === undefined || port > 65535 || (port === 0 && !options.allowPortZero)) return fail();
  return { host: (m[1] ?? m[2])!, port };
}

/** `HOST:PORT`, with an IPv6 address in brackets (`[::1]:1688`): the form parseHostPort reads back. */
export function formatHostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * A host name by RFC 1123 §2.1 (letters, digits, hyphens, labels of 1 to 63
 * characters, 253 in all), with `_` for service labels; canonical (lower
 * case, no trailing dot). What a lab zone and an admin listener's allowed
 * name are.
 */
export function isHostName(name: string): boolean {
  return /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/.test(name);
}
