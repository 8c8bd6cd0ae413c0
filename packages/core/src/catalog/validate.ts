import { KmsLabError } from '../errors.js';
import type { CatalogData } from './types.js';

const ID = /^[a-z0-9][a-z0-9.-]*$/;
const KINDS = new Set(['client', 'server', 'office']);
/** A group's or pack's `source`: the page that documents it. */
const URL_PATTERN = /^https:\/\/\S+$/;

function fail(source: string, where: string, what: string): never {
  throw new KmsLabError('KMSLAB_INVALID_CATALOG', `${source}: ${where}: ${what}`);
}

/** Ids and families go on the wire as short strings (docs/protocol.md): at most 255 bytes. */
const MAX_BYTES = 255;

function str(source: string, where: string, value: unknown, pattern?: RegExp): string {
  if (typeof value !== 'string' || value.length === 0) fail(source, where, 'must be a non-empty string');
  if (Buffer.byteLength(value) > MAX_BYTES) fail(source, where, `is ${Buffer.byteLength(value)} bytes; the protocol carries at most ${MAX_BYTES}`);
  if (pattern && !pattern.test(value)) fail(source, where, `must match ${pattern}`);
  return value;
}

function list(source: string, where: string, value: unknown): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(source, where, 'must be a list');
  return value;
}

/** Shape check of one catalog file; cross-references are checked once all files are merged. */
export function validateCatalogData(raw: unknown, source: string): CatalogData {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(source, 'top level', 'must be an object');
  const data = raw as Record<string, unknown>;
  const out: CatalogData = { products: [], keyGroups: [], licensePacks: [] };
  if (data.defaultKeyGroup !== undefined) out.defaultKeyGroup = str(source, 'defaultKeyGroup', data.defaultKeyGroup, ID);

  list(source, 'products', data.products).forEach((p, i) => {
    const at = `products[${i}]`;
    if (typeof p !== 'object' || p === null) fail(source, at, 'must be an object');
    const r = p as Record<string, unknown>;
    const kind = str(source, `${at}.kind`, r.kind);
    if (!KINDS.has(kind)) fail(source, `${at}.kind`, 'must be client, server or office');
    if (r.threshold !== undefined && !(Number.isInteger(r.threshold) && (r.threshold as number) >= 1 && (r.threshold as number) <= 50)) {
      fail(source, `${at}.threshold`, 'must be a whole number from 1 to 50');
    }
    if (kind === 'office' ? r.licensePack === undefined : r.keyGroup === undefined) {
      fail(source, at, kind === 'office' ? 'an office product needs licensePack' : 'a Windows product needs keyGroup');
    }
    out.products!.push({
      id: str(source, `${at}.id`, r.id, ID),
      name: str(source, `${at}.name`, r.name),
      family: str(source, `${at}.family`, r.family, ID),
      kind: kind as 'client' | 'server' | 'office',
      ...(r.threshold !== undefined && { threshold: r.threshold as number }),
      ...(r.keyGroup !== undefined && { keyGroup: str(source, `${at}.keyGroup`, r.keyGroup, ID) }),
      ...(r.licensePack !== undefined && { licensePack: str(source, `${at}.licensePack`, r.licensePack, ID) }),
    });
  });

  list(source, 'keyGroups', data.keyGroups).forEach((g, i) => {
    const at = `keyGroups[${i}]`;
    if (typeof g !== 'object' || g === null) fail(source, at, 'must be an object');
    const r = g as Record<string, unknown>;
    const kind = str(source, `${at}.kind`, r.kind);
    if (kind !== 'client' && kind !== 'server') fail(source, `${at}.kind`, 'must be client or server');
    out.keyGroups!.push({
      id: str(source, `${at}.id`, r.id, ID),
      name: str(source, `${at}.name`, r.name),
      kind,
      includes: list(source, `${at}.includes`, r.includes).map((x, j) => str(source, `${at}.includes[${j}]`, x, ID)),
      labKey: str(source, `${at}.labKey`, r.labKey, /^KMSLAB-[A-Z0-9-]+$/),
      ...(r.source !== undefined && { source: str(source, `${at}.source`, r.source, URL_PATTERN) }),
    });
  });

  list(source, 'licensePacks', data.licensePacks).forEach((l, i) => {
    const at = `licensePacks[${i}]`;
    if (typeof l !== 'object' || l === null) fail(source, at, 'must be an object');
    const r = l as Record<string, unknown>;
    out.licensePacks!.push({
      id: str(source, `${at}.id`, r.id, ID),
      name: str(source, `${at}.name`, r.name),
      family: str(source, `${at}.family`, r.family, ID),
      labKey: str(source, `${at}.labKey`, r.labKey, /^KMSLAB-[A-Z0-9-]+$/),
      ...(r.source !== undefined && { source: str(source, `${at}.source`, r.source, URL_PATTERN) }),
    });
  });
  return out;
}
