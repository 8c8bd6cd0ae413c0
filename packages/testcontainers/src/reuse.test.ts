import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { reuseSecretDir, reuseSecrets } from './reuse.js';

let runtime: string;
const saved = process.env.XDG_RUNTIME_DIR;
beforeEach(() => {
  runtime = mkdtempSync(join(tmpdir(), 'kmslab-runtime-'));
  process.env.XDG_RUNTIME_DIR = runtime;
});
afterEach(() => {
  if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
  else process.env.XDG_RUNTIME_DIR = saved;
  rmSync(runtime, { recursive: true, force: true });
});

describe("a reused lab's secret: the user's own, or refused (docs/testing.md)", () => {
  test('kept in $XDG_RUNTIME_DIR/kmslab (mode 0700), the file 0600; a second reader derives the same secrets', () => {
    const first = reuseSecrets('suite');
    expect(reuseSecretDir()).toBe(join(runtime, 'kmslab'));
    expect(statSync(join(runtime, 'kmslab')).mode & 0o777).toBe(0o700);
    expect(statSync(join(runtime, 'kmslab', 'reuse-suite.secret')).mode & 0o777).toBe(0o600);
    expect(reuseSecrets('suite').tsig('kms1')).toBe(first.tsig('kms1'));
    expect(first.token('dns')).not.toBe(first.token('kms1'));
  });

  test('a file planted by someone else, readable by others, or a link is refused with one line; so is a folder others can enter', () => {
    const dir = join(runtime, 'kmslab');
    mkdirSync(dir, { mode: 0o700 });
    const file = join(dir, 'reuse-planted.secret');
    writeFileSync(file, 'a'.repeat(43), { mode: 0o644 });
    expect(() => reuseSecrets('planted')).toThrow(/reuse-planted\.secret is not a file of yours that only you can read/);
    chmodSync(file, 0o600);
    if (process.getuid?.() === 0) {
      chownSync(file, 65534, 65534);
      expect(() => reuseSecrets('planted')).toThrow(/is not a file of yours/);
    }
    rmSync(file);
    writeFileSync(join(runtime, 'elsewhere'), 'a'.repeat(43), { mode: 0o600 });
    symlinkSync(join(runtime, 'elsewhere'), file);
    expect(() => reuseSecrets('planted')).toThrow(/is not a file of yours/);
    chmodSync(dir, 0o755);
    expect(() => reuseSecrets('other')).toThrow(/must be a folder of yours that no one else can enter \(chmod 700/);
  });
});
