import { CLASS, TYPE, canonicalName, ipv6Bytes, nameLabels, type RData, type ResourceRecord } from '@kmslab/dns-wire';
import { KmsLabError, readUserFile } from '@kmslab/core';

/** How zone text is read, and how its errors are told. */
interface ZoneTextOptions {
  origin?: string;
  /** The file named in errors. */
  source?: string;
  requireSoa?: boolean;
  /**
   * Records gathered from another file's lines (a zone journal's entries, the
   * saved zone's `;kmslab-…` lines): the file's line of each line of `text`,
   * for errors, and the error code (KMSLAB_STORE_CORRUPT for kmslab's own files).
   */
  fileLines?: readonly number[];
  code?: 'KMSLAB_INVALID_ARGUMENT' | 'KMSLAB_STORE_CORRUPT';
}

/** An error at line `n` of the text (1-based), as the file's line. */
function errorIn(source: string, o: ZoneTextOptions): (n: number, what: string) => KmsLabError {
  return (n, what) => new KmsLabError(o.code ?? 'KMSLAB_INVALID_ARGUMENT', `${source} line ${o.fileLines?.[n - 1] ?? n}: ${what}`);
}

/** A zone is held in memory whole: docs/errors.md "File limits". */
export const ZONE_FILE_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Reads a zone in the standard master-file format (RFC 1035 §5): $ORIGIN,
 * $TTL, `@`, relative names, an empty owner meaning "the previous one",
 * optional TTL and class in either order, parentheses across lines, `;`
 * comments and quoted strings. Types: SOA NS A AAAA SRV TXT CNAME.
 * Errors name the file and line, never what the line holds (a zone file
 * given by mistake may be a secret).
 */
export function parseZoneFile(text: string, options: { origin?: string; source?: string; requireSoa?: boolean } = {}): { origin: string; records: ResourceRecord[] } {
  return parseZoneText(text, options);
}

function parseZoneText(text: string, options: ZoneTextOptions): { origin: string; records: ResourceRecord[] } {
  const source = options.source ?? 'zone file';
  const err = errorIn(source, options);
  let origin = options.origin === undefined ? undefined : canonicalName(options.origin);
  let defaultTtl: number | undefined;
  let lastOwner: string | undefined;
  let lastTtl: number | undefined;
  const records: ResourceRecord[] = [];

  for (const { tokens, line, ownerBlank } of logicalLines(text, err)) {
    const fail = (what: string): never => {
      throw err(line, what);
    };
    const absolute = (name: string): string => {
      if (name === '@') {
        if (origin === undefined) fail('"@" used before $ORIGIN');
        return origin!;
      }
      if (name.endsWith('.')) return canonicalName(name);
      if (origin === undefined) fail('a relative name before $ORIGIN');
      return canonicalName(origin === '' ? name : `${name}.${origin}`);
    };
    if (tokens[0]?.toUpperCase() === '$ORIGIN') {
      origin = canonicalName(tokens[1] ?? fail('$ORIGIN needs a name'));
      continue;
    }
    if (tokens[0]?.toUpperCase() === '$TTL') {
      defaultTtl = parseTtl(tokens[1] ?? fail('$TTL needs a value'), fail);
      continue;
    }
    if (tokens[0]?.startsWith('$')) fail('only the $ORIGIN and $TTL directives are supported');

    let i = 0;
    const owner = ownerBlank ? (lastOwner ?? fail('a record with no owner comes first')) : absolute(tokens[i++]!);
    let ttl: number | undefined;
    for (let k = 0; k < 2; k++) {
      const t = tokens[i];
      if (t !== undefined && /^\d+[smhdw]?$/i.test(t) && ttl === undefined) {
        ttl = parseTtl(t, fail);
        i++;
      } else if (t?.toUpperCase() === 'IN') i++;
      else if (t?.toUpperCase() === 'CH' || t?.toUpperCase() === 'HS') fail('only class IN is supported');
    }
    const typeText = (tokens[i++] ?? fail('missing record type')).toUpperCase();
    const type = (TYPE as Record<string, number>)[typeText];
    const args = tokens.slice(i);
    const data = parseRData(typeText, args, absolute, fail);
    if (type === undefined || !data) fail('not a record kmslab reads: OWNER [TTL] [IN] TYPE DATA, with TYPE one of SOA NS A AAAA SRV TXT CNAME');
    const soaMinimum = data!.type === 'SOA' ? data!.minimum : undefined;
    const recordTtl = ttl ?? defaultTtl ?? lastTtl ?? soaMinimum ?? fail('no TTL: add one or a $TTL line');
    records.push({ name: owner, type: type!, class: CLASS.IN, ttl: recordTtl, data: data! });
    lastOwner = owner;
    lastTtl = recordTtl;
  }
  const soa = records.find((r) => r.type === TYPE.SOA);
  if (!soa && options.requireSoa !== false) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${source}: the zone has no SOA record`);
  const zoneOrigin = origin ?? soa?.name;
  if (zoneOrigin === undefined) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${source}: no $ORIGIN and no SOA record to take the zone name from`);
  return { origin: zoneOrigin, records };
}

/** Reads a master file (RFC 1035 §5); errors name the file and line, never its contents. */
export function readZoneFile(path: string, origin?: string): { origin: string; records: ResourceRecord[] } {
  const text = readUserFile(path, 'zone file', { maxBytes: ZONE_FILE_MAX_BYTES });
  return parseZoneFile(text, { origin, source: path });
}

function parseRData(type: string, a: string[], absolute: (n: string) => string, fail: (w: string) => never): RData | null {
  const need = (n: number) => {
    if (a.length !== n) fail(`${type} needs ${n} field${n === 1 ? '' : 's'}, got ${a.length}`);
  };
  const num = (s: string, max: number, what: string) => {
    const v = Number(s);
    if (!Number.isInteger(v) || v < 0 || v > max) fail(`the ${what} must be a whole number from 0 to ${max}`);
    return v;
  };
  const name = (s: string) => {
    const n = absolute(s);
    try {
      nameLabels(n);
    } catch {
      fail('a name has a label over 63 octets or is over 255 octets');
    }
    return n;
  };
  switch (type) {
    case 'A':
      need(1);
      if (!/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(a[0]!)) fail('the A record\'s address is not an IPv4 address');
      return { type: 'A', address: a[0]! };
    case 'AAAA':
      need(1);
      try {
        ipv6Bytes(a[0]!);
      } catch {
        fail('the AAAA record\'s address is not an IPv6 address');
      }
      return { type: 'AAAA', address: a[0]!.toLowerCase() };
    case 'NS':
    case 'CNAME':
      need(1);
      return { type, target: name(a[0]!) };
    case 'SRV':
      need(4);
      return { type: 'SRV', priority: num(a[0]!, 65535, 'priority'), weight: num(a[1]!, 65535, 'weight'), port: num(a[2]!, 65535, 'port'), target: name(a[3]!) };
    case 'SOA': {
      need(7);
      const t = (s: string, what: string) => parseTtl(s, (w) => fail(`${what}: ${w}`));
      return { type: 'SOA', mname: name(a[0]!), rname: name(a[1]!), serial: num(a[2]!, 2 ** 32 - 1, 'serial'), refresh: t(a[3]!, 'refresh'), retry: t(a[4]!, 'retry'), expire: t(a[5]!, 'expire'), minimum: t(a[6]!, 'minimum') };
    }
    case 'TXT':
      if (a.length === 0) fail('TXT needs at least one string');
      return { type: 'TXT', texts: a.map((s) => (s.startsWith('"') ? s.slice(1, -1).replace(/\\(.)/g, '$1') : s)) };
    default:
      return null;
  }
}

function parseTtl(s: string, fail: (w: string) => never): number {
  const m = /^(\d+)([smhdw]?)$/i.exec(s);
  if (!m) fail('a TTL must be a number of seconds, or with a unit s m h d w');
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m![2]!.toLowerCase() as '' | 's'];
  const v = Number(m![1]) * unit;
  if (v > 2 ** 31 - 1) fail('a TTL is at most 2147483647 seconds');
  return v;
}

/**
 * Records written one a line inside another file of kmslab's own (a zone
 * journal's entries, the saved zone's `;kmslab-` lines): `matches` are those
 * lines in file order, `record` the record text of each. All are parsed at
 * once; one that does not read is the file's corruption, KMSLAB_STORE_CORRUPT
 * at its line of that file.
 */
export function parseRecordLines(text: string, matches: readonly RegExpMatchArray[], record: (m: RegExpMatchArray) => string, o: { origin: string; source: string }): ResourceRecord[] {
  return parseZoneText(`${matches.map(record).join('\n')}\n`, { ...o, requireSoa: false, code: 'KMSLAB_STORE_CORRUPT', fileLines: lineNumbers(text, matches) }).records;
}

/** The line of `text` each match starts on (matches in order). */
function lineNumbers(text: string, matches: readonly RegExpMatchArray[]): number[] {
  const out: number[] = [];
  let line = 1;
  let at = 0;
  for (const m of matches) {
    for (let i = text.indexOf('\n', at); i !== -1 && i < m.index!; i = text.indexOf('\n', i + 1)) line++;
    at = m.index!;
    out.push(line);
  }
  return out;
}

/** Splits the text into logical lines (parentheses joined), tokens with quotes kept whole. */
function* logicalLines(text: string, err: (n: number, what: string) => KmsLabError): Generator<{ tokens: string[]; line: number; ownerBlank: boolean }> {
  let tokens: string[] = [];
  let depth = 0;
  let startLine = 0;
  let ownerBlank = false;
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!;
    if (depth === 0) {
      tokens = [];
      startLine = n + 1;
      ownerBlank = /^[ \t]/.test(raw);
    }
    let i = 0;
    while (i < raw.length) {
      const c = raw[i]!;
      if (c === ';') break;
      if (c === ' ' || c === '\t') i++;
      else if (c === '(') {
        depth++;
        i++;
      } else if (c === ')') {
        if (depth === 0) throw err(n + 1, '")" without "("');
        depth--;
        i++;
      } else if (c === '"') {
        let j = i + 1;
        while (j < raw.length && raw[j] !== '"') j += raw[j] === '\\' ? 2 : 1;
        if (j >= raw.length) throw err(n + 1, 'unterminated quoted string');
        tokens.push(raw.slice(i, j + 1));
        i = j + 1;
      } else {
        let j = i;
        while (j < raw.length && !' \t;()"'.includes(raw[j]!)) j++;
        tokens.push(raw.slice(i, j));
        i = j;
      }
    }
    if (depth === 0 && tokens.length > 0) yield { tokens, line: startLine, ownerBlank };
  }
  if (depth !== 0) throw err(startLine, '"(" opened here is never closed');
}
