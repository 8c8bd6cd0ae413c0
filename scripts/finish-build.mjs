// What tsc -b does not do: files the packages read at run time, the licence in
// every package, and the `kmslab` command in node_modules/.bin (pnpm links bins
// before `prepare` builds them, so on a fresh clone it found no dist/bin.js).
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, symlinkSync } from 'node:fs';
import { dirname } from 'node:path';

const ASSETS = ['packages/host/src/store/record-requests.lua'];
for (const src of ASSETS) {
  const out = src.replace('/src/', '/dist/');
  mkdirSync(dirname(out), { recursive: true });
  copyFileSync(src, out);
}

// Every package ships the licence (packages/*/LICENSE is made here, not kept twice in git).
for (const pkg of ['core', 'dns-wire', 'dns', 'host', 'client', 'lab', 'dashboard', 'testing', 'cli', 'testcontainers']) copyFileSync('LICENSE', `packages/${pkg}/LICENSE`);

const BIN = 'packages/cli/dist/bin.js';
chmodSync(BIN, 0o755);
const link = 'node_modules/.bin/kmslab';
const present = (() => {
  try {
    lstatSync(link);
    return true;
  } catch {
    return false;
  }
})();
if (existsSync('node_modules') && !present) {
  mkdirSync('node_modules/.bin', { recursive: true });
  symlinkSync(`../../${BIN}`, link);
}
