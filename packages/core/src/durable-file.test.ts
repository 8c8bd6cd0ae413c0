import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { replaceFile, replaceFileSync } from './durable-file.js';

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'kmslab-durable-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('replacing a file whole (durable-file.ts)', () => {
  for (const [name, replace] of [['sync', replaceFileSync], ['async', replaceFile]] as const) {
    test(`${name}: a link planted at the temporary name is removed, never written through; the file is replaced whole`, async () => {
      const dir = fresh();
      const victim = join(fresh(), 'bashrc');
      writeFileSync(victim, 'the victim\n');
      const path = join(dir, 'snapshot.json');
      writeFileSync(path, 'old');
      symlinkSync(victim, `${path}.tmp`);
      await replace(path, 'new');
      expect(readFileSync(victim, 'utf8')).toBe('the victim\n');
      expect(readFileSync(path, 'utf8')).toBe('new');
      expect(lstatSync(path).isSymbolicLink()).toBe(false);
      expect(readdirSync(dir)).toEqual(['snapshot.json']);
    });

    test(`${name}: a write that fails leaves the old file and no temporary file`, async () => {
      const dir = fresh();
      const path = join(dir, 'missing-folder', 'zone');
      await expect(async () => replace(path, 'x')).rejects.toMatchObject({ code: 'ENOENT' });
      expect(existsSync(`${path}.tmp`)).toBe(false);
    });
  }
});
