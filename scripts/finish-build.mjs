// What tsc -b does not do: files the packages read at run time, the licence in
// every package, and the compiled command's mode.
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

const ASSETS = ['packages/host/src/store/record-requests.lua'];
for (const src of ASSETS) {
  const out = src.replace('/src/', '/dist/');
  mkdirSync(dirname(out), { recursive: true });
  copyFileSync(src, out);
}

// Every package ships the licence (packages/*/LICENSE is made here, not kept twice in git).
for (const pkg of ['core', 'dns-wire', 'server-kit', 'dns', 'host', 'client', 'lab', 'dashboard', 'testing', 'cli', 'testcontainers']) copyFileSync('LICENSE', `packages/${pkg}/LICENSE`);

chmodSync('packages/cli/dist/bin.js', 0o755);
