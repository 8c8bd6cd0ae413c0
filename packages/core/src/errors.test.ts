import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ERROR_CODES, KmsLabError, errorCodeFromWire, toKmsLabError, type ErrorCode } from './errors.js';

const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

describe('error codes', () => {
  test('docs/errors.md documents every code with its wire value and HTTP status, and no code that does not exist', () => {
    const documented = [...docs.matchAll(/^\| `([^`]+)` \| `(0x[0-9A-Fa-f]{8})` \| (\d{3}) \|/gm)].map((m) => [m[1], m[2]!.toLowerCase(), Number(m[3])]);
    const table = (Object.keys(ERROR_CODES) as ErrorCode[]).map((c) => [c, `0x${ERROR_CODES[c].wire.toString(16).padStart(8, '0')}`, ERROR_CODES[c].http]);
    expect(documented.sort()).toEqual(table.sort());
  });

  test('wire values are unique and map back to their code', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) expect(errorCodeFromWire(ERROR_CODES[code].wire)).toBe(code);
    expect(errorCodeFromWire(0x12345678)).toBeUndefined();
  });

  test('toKmsLabError keeps KmsLabErrors and wraps anything else with its cause', () => {
    const own = new KmsLabError('0xC004F074');
    expect(toKmsLabError(own)).toBe(own);
    const cause = new Error('ECONNRESET');
    const wrapped = toKmsLabError(cause, 'KMSLAB_HOST_UNAVAILABLE');
    expect(wrapped).toMatchObject({ code: 'KMSLAB_HOST_UNAVAILABLE', cause });
    expect(wrapped.message).toContain('ECONNRESET');
  });

  test('without a fallback, an OS error is KMSLAB_CONNECTION_FAILED and anything else KMSLAB_INTERNAL (a bug never reads as "unreachable")', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', syscall: 'connect' });
    expect(toKmsLabError(refused).code).toBe('KMSLAB_CONNECTION_FAILED');
    expect(toKmsLabError(new TypeError("Cannot read properties of undefined (reading 'x')")).code).toBe('KMSLAB_INTERNAL');
    expect(toKmsLabError('a string').code).toBe('KMSLAB_INTERNAL');
  });
});
