import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Where the built page is: `dist/page` beside this module once built, or from the sources when run by tsx. */
export function pageDirectory(): string | null {
  for (const rel of ['./page/', '../dist/page/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return null;
}

export interface PageFile {
  body: Buffer;
  /** The same, gzipped once (text files), for a browser that accepts it: the first load is what a page's size means. */
  gzipped: Buffer | null;
  type: string;
  immutable: boolean;
}

/** The files found, read and compressed once; only files that exist (a bounded set: the build's output), not every path asked for. */
const read = new Map<string, PageFile>();

/** A file of the built page, or null (none, or a path that leaves the page's folder). */
export async function pageFile(dir: string, path: string): Promise<PageFile | null> {
  const key = `${dir}\0${path}`;
  const known = read.get(key);
  if (known) return known;
  const file = await loadPageFile(dir, path);
  if (file) read.set(key, file);
  return file;
}

async function loadPageFile(dir: string, path: string): Promise<PageFile | null> {
  const rel = normalize(path === '/' ? '/index.html' : path);
  if (rel.includes('..') || rel.includes('\0')) return null;
  const type = TYPES[extname(rel)];
  if (!type) return null;
  try {
    // Built assets carry a content hash in their names: they may be cached for good; the HTML may not.
    const body = await readFile(join(dir, rel));
    return { body, gzipped: type.startsWith('image/png') ? null : gzipSync(body, { level: 9 }), type, immutable: rel.startsWith('/assets/') };
  } catch {
    return null;
  }
}
