import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { KmsLabError } from '@kmslab/core';

/** testcontainers 12 needs Node 22.22 or newer (its `engines`); on an older Node its HTTP client fails on import. */
const NEEDS_22 = 12;

/**
 * The line a user gets instead of testcontainers 12's crash on an older Node
 * (`Cannot read properties of undefined (reading 'bind')` from undici), or
 * null when the pair works.
 */
export function nodeMismatch(node: string, testcontainers: string): string | null {
  const [major = 0, minor = 0] = node.replace(/^v/, '').split('.').map(Number);
  const tc = Number(testcontainers.split('.')[0]);
  if (tc < NEEDS_22 || major > 22 || (major === 22 && minor >= 22)) return null;
  return `testcontainers ${testcontainers} needs Node 22.22 or newer and this is Node ${node}: install testcontainers 11 for Node 20 (npm install -D testcontainers@11), or run the tests on Node 22`;
}

/** The installed testcontainers' version, found from here as an import of it would be. */
function installedVersion(): string | null {
  try {
    const entry = createRequire(import.meta.url).resolve('testcontainers');
    for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'testcontainers') return pkg.version ?? null;
      } catch {
        // No package.json at this level: go up.
      }
    }
  } catch {
    // Not installed: the import that follows says so.
  }
  return null;
}

// Runs before testcontainers is imported (index.ts imports this module first).
const version = installedVersion();
const mismatch = version === null ? null : nodeMismatch(process.version, version);
if (mismatch) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', mismatch);
