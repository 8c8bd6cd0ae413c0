import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { KmsLabError } from '@kmslab/core';
import { parseHostPort } from '@kmslab/core';

/** 127.0.0.0/8, ::1 (and its mapped form), `localhost`: addresses only this machine reaches. */
export function isLoopbackAddress(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** A token for an admin listener that is reachable beyond loopback (DEVELOPERS.md "Secure by default"). */
export function generateAdminToken(): string {
  return randomBytes(24).toString('base64url');
}

/** A token a user chose: long enough not to be guessed. */
export function checkAdminToken(token: string): string {
  if (token.length < 16 || /\s/.test(token)) {
    throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', 'The admin token must be at least 16 characters without spaces');
  }
  return token;
}

/**
 * Does `Authorization: Bearer …` carry `token`? Both sides are hashed first,
 * so the comparison takes the same time whatever the length or the first
 * wrong character.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1] ?? '';
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(token)) && given.length > 0;
}

/**
 * The token an admin listener on `hostPort` needs (DEVELOPERS.md "Secure by
 * default"): the one given (then required on any address); else none on
 * loopback, and beyond it one generated here for the caller to show once.
 */
export function adminTokenFor(hostPort: string, given: string | undefined): { value: string; generated: boolean } | null {
  if (given !== undefined) return { value: checkAdminToken(given), generated: false };
  const { host } = parseHostPort(hostPort, { allowPortZero: true, what: 'The admin address' });
  return isLoopbackAddress(host) ? null : { value: generateAdminToken(), generated: true };
}
