import { isIP } from 'node:net';
import { KmsLabError, parseDurationMs } from '@kmslab/core';
import { TYPE, canonicalName, ipv6Bytes, typeName } from '@kmslab/dns-wire';

/** What a fault does to a matching query (or, for `update-*`, to a dynamic update). docs/dns-faults.md */
export type FaultAction =
  | { kind: 'servfail' | 'refused' | 'nxdomain' | 'nodata' | 'drop' | 'truncate' | 'formerr' | 'notimp' | 'update-refused' | 'update-notauth' | 'notify-drop' | 'transfer-refused' }
  | { kind: 'delay' | 'transfer-delay'; ms: number }
  | { kind: 'ttl'; ttl: number };

const PLAIN_ACTIONS = ['servfail', 'refused', 'nxdomain', 'nodata', 'drop', 'truncate', 'formerr', 'notimp', 'update-refused', 'update-notauth', 'notify-drop', 'transfer-refused'] as const;

/** A fault rule as users write it (flag, config file, admin API): every field but name and action optional. */
export interface FaultRuleInput {
  name: string;
  type?: string | null;
  action: string;
  probability?: number | null;
  every?: number | null;
  count?: number | null;
  from?: string | null;
  transport?: 'udp' | 'tcp' | null;
  /** ISO time, or a duration from now ("10m", "6h"). */
  until?: string | null;
  /** `exact`: only a query that spells the name with exactly this case (a byte-matching filter on the DNS path); default any case. */
  case?: 'exact' | 'any' | null;
}

/** A validated rule: names canonical, the type as a number, `until` in ms. */
export interface FaultRule {
  /** `*.suffix` matches every name below suffix; anything else exactly that name. */
  name: string;
  type: number | null;
  action: FaultAction;
  probability: number | null;
  every: number | null;
  count: number | null;
  from: string | null;
  transport: 'udp' | 'tcp' | null;
  until: number | null;
  /** Match only this spelling (case kept, no trailing dot; for `*.suffix` the suffix): `case=exact`. Null: any case, as DNS compares names. */
  spelling: string | null;
  /** `from` as a network: IPv4 or IPv6, its bytes and prefix length (what fault-set.ts indexes rules by). */
  readonly fromNet: FaultNet | null;
}

/** A client prefix: `family` 4 or 6, the address bytes (4 or 16) and the prefix length. */
export interface FaultNet {
  family: 4 | 6;
  bytes: Buffer;
  prefix: number;
}

/** The fields a rule may have (a JSON body with another field is refused: a typo must not turn an option off). */
const FIELDS = new Set(['name', 'type', 'action', 'probability', 'every', 'count', 'from', 'transport', 'until', 'case']);
/** The furthest a relative `until` may reach. */
const MAX_UNTIL_MS = 3650 * 86_400_000;
/** A DNS name a rule may target: 1-63 character labels of printable ASCII (no dot, space or control), 253 in all; `*.` only in front. */
const LABEL = /^[\x21-\x2d\x2f-\x7e]{1,63}$/;

const bad = (rule: string, part: string, why: string): KmsLabError =>
  new KmsLabError('KMSLAB_INVALID_ARGUMENT', `Fault rule "${rule}": ${part} ${why} (docs/dns-faults.md)`);

/** `delay:MS`, `ttl:N` or one of the plain actions. */
function parseAction(text: string, rule: string): FaultAction {
  const [kind, arg, ...rest] = text.trim().toLowerCase().split(':');
  if (rest.length > 0) throw bad(rule, `action "${text}"`, 'has too many ":" parts');
  if (kind === 'delay' || kind === 'ttl' || kind === 'transfer-delay') {
    const n = Number(arg);
    const max = kind === 'ttl' ? 2 ** 31 - 1 : 60_000;
    if (arg === undefined || !/^\d+$/.test(arg) || !Number.isInteger(n) || n < 0 || n > max) throw bad(rule, `action "${text}"`, `needs ${kind}:N with N a whole number from 0 to ${max}`);
    return kind === 'ttl' ? { kind, ttl: n } : { kind, ms: n };
  }
  if (arg !== undefined || !(PLAIN_ACTIONS as readonly string[]).includes(kind!)) {
    throw bad(rule, `action "${text}"`, `is not one of ${PLAIN_ACTIONS.join(', ')}, delay:MS, ttl:N, transfer-delay:MS`);
  }
  return { kind: kind as (typeof PLAIN_ACTIONS)[number] };
}

/** The address bytes of an IPv4 or IPv6 literal (IPv4-mapped IPv6 as IPv4), or null. */
export function addressBytes(address: string): { family: 4 | 6; bytes: Buffer } | null {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  // A scope (`fe80::1%eth0`) is no part of a prefix.
  const a = (mapped ?? address).replace(/%.*$/, '');
  const family = isIP(a);
  if (family === 4) return { family: 4, bytes: Buffer.from(a.split('.').map(Number)) };
  if (family === 6) return { family: 6, bytes: ipv6Bytes(a) };
  return null;
}

/** Whether two address literals are one address (`::ffff:127.0.0.1` is 127.0.0.1, `::1` is `0:0::1`); a name is no address. */
export function sameAddress(a: string, b: string): boolean {
  const x = addressBytes(a);
  const y = addressBytes(b);
  return x !== null && y !== null && x.family === y.family && x.bytes.equals(y.bytes);
}

/** An address or a prefix (`127.0.0.0/8`, `::1/128`, `192.0.2.7`) as a network, or null when it is neither (a fault's `from=`, `--allow-transfer`). */
export function parsePrefix(text: string): FaultNet | null {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  // A scope (`fe80::1%eth0`) belongs to an address, never to a prefix.
  const parsed = m && !m[1]!.includes('%') ? addressBytes(m[1]!) : null;
  if (!m || !parsed) return null;
  const max = parsed.family === 6 ? 128 : 32;
  const prefix = m[2] === undefined ? max : Number(m[2]);
  if (prefix > max) return null;
  return { ...parsed, bytes: maskBytes(parsed.bytes, prefix), prefix };
}

function parseCidr(text: unknown, rule: string): FaultNet {
  const net = typeof text === 'string' ? parsePrefix(text) : null;
  if (!net) throw bad(rule, `from "${shown(text)}"`, 'must be an address or a prefix such as 127.0.0.0/8 or ::1/128');
  return net;
}

/** `bytes` with every bit past `prefix` cleared. */
export function maskBytes(bytes: Buffer, prefix: number): Buffer {
  const out = Buffer.from(bytes);
  for (let bit = prefix; bit < out.length * 8; bit++) out[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return out;
}

/** A value as an error line may show it: short, and without control characters. */
const shown = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v) ?? String(v)).slice(0, 60).replace(/[\x00-\x1f\x7f]/g, '?');

/** A whole number: a JSON number, or a string of digits only ("1e3", "0x10" and " 5" are not). */
function whole(value: unknown, part: string, rule: string, min: number): number | null {
  if (value === undefined || value === null) return null;
  const n = typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > 2 ** 31) throw bad(rule, `${part} "${shown(value)}"`, `must be a whole number from ${min} to ${2 ** 31}`);
  return n;
}

/** The rule's name: `*.suffix` or a name, each label 1-63 printable characters, 253 in all; the root alone is no target. */
function checkName(input: unknown, rule: string): string {
  if (typeof input !== 'string' || input.trim() === '') throw bad(rule, 'name', 'is missing');
  const wildcard = input.startsWith('*.');
  const name = canonicalName(wildcard ? input.slice(2) : input);
  const labels = name.split('.');
  if (name === '' || name.length > 253 || !labels.every((l) => LABEL.test(l)) || labels.includes('*')) {
    throw bad(rule, `name "${shown(input)}"`, 'must be a DNS name (labels of 1 to 63 printable characters, 253 in all) or *.SUFFIX');
  }
  return (wildcard ? '*.' : '') + name;
}

/** `until`: an ISO time, or a duration from `now` of at most 10 years. */
function checkUntil(value: unknown, now: number, rule: string): number | null {
  if (value === undefined || value === null || value === '') return null;
  const fail = () => bad(rule, `until "${shown(value)}"`, 'must be an ISO time or a duration of at most 3650d, such as 10m or 6h');
  if (typeof value !== 'string') throw fail();
  const relative = parseDurationMs(value);
  if (relative !== null) {
    if (relative > MAX_UNTIL_MS) throw fail();
    return now + relative;
  }
  const absolute = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(absolute) || absolute > Date.UTC(9999, 11, 31)) throw fail();
  return absolute;
}

/**
 * Validates a rule from any source (flag, config file, admin API), every
 * field for its type and range; `now` turns a relative `until` into a time.
 * Anything wrong is one line, KMSLAB_INVALID_ARGUMENT (400 on the API).
 */
export function toFaultRule(input: FaultRuleInput, now: number, source = safeDescription(input)): FaultRule {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw bad(source, 'the rule', 'must be an object');
  const unknown = Object.keys(input).find((k) => !FIELDS.has(k));
  if (unknown !== undefined) throw bad(source, `field "${shown(unknown)}"`, `is not one of ${[...FIELDS].join(', ')}`);
  const name = checkName(input.name, source);
  let type: number | null = null;
  if (input.type !== undefined && input.type !== null && input.type !== '') {
    const t = typeof input.type === 'string' && /^[A-Za-z]{1,10}$/.test(input.type) ? (TYPE as Record<string, number>)[input.type.toUpperCase()] : undefined;
    if (t === undefined) throw bad(source, `type "${shown(input.type)}"`, `is not one of ${Object.keys(TYPE).join(' ')}`);
    type = t;
  }
  if (typeof input.action !== 'string' || input.action.trim() === '') throw bad(source, 'action', 'is missing');
  const action = parseAction(input.action, source);
  let probability: number | null = null;
  if (input.probability !== undefined && input.probability !== null) {
    const raw: unknown = input.probability;
    const p = typeof raw === 'string' && /^(0|1)?(\.\d{1,15})?$/.test(raw) && raw !== '' ? Number(raw) : raw;
    if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 1) throw bad(source, `probability "${shown(raw)}"`, 'must be a number from 0 to 1');
    probability = p;
  }
  const transport: unknown = input.transport ?? null;
  if (transport !== null && transport !== 'udp' && transport !== 'tcp') throw bad(source, `transport "${shown(transport)}"`, 'must be udp or tcp');
  const fromNet = input.from === undefined || input.from === null ? null : parseCidr(input.from, source);
  const caseMode: unknown = input.case ?? 'any';
  if (caseMode !== 'exact' && caseMode !== 'any') throw bad(source, `case "${shown(caseMode)}"`, 'must be exact or any');
  const spelled = (input.name as string).trim().replace(/\.$/, '');
  return {
    name,
    type,
    action,
    probability,
    every: whole(input.every, 'every', source, 1),
    count: whole(input.count, 'count', source, 1),
    from: fromNet === null ? null : (input.from as string).trim(),
    transport,
    until: checkUntil(input.until, now, source),
    spelling: caseMode === 'exact' ? (spelled.startsWith('*.') ? spelled.slice(1) : spelled) : null,
    fromNet,
  };
}

/** A rule's own description for its error lines, whatever its fields hold (a JSON body may hold anything). */
function safeDescription(input: FaultRuleInput): string {
  try {
    return shown(describeRule(input)).slice(0, 120);
  } catch {
    return 'the rule';
  }
}

/**
 * `NAME[/TYPE]=ACTION[,probability=P][,every=N][,count=N][,from=CIDR][,transport=udp|tcp][,until=T][,case=exact]`,
 * the form of `kmslab dns start --fault RULE`, e.g. `_vlmcs._tcp.lab.test/SRV=servfail,probability=0.5`.
 */
export function parseFaultRule(text: string, now: number): FaultRule {
  const eq = text.indexOf('=');
  if (eq <= 0) throw bad(text, 'the rule', 'must be NAME[/TYPE]=ACTION[,option=value…]');
  const [target, ...typeParts] = text.slice(0, eq).split('/');
  if (typeParts.length > 1) throw bad(text, `"${text.slice(0, eq)}"`, 'has more than one "/TYPE"');
  const [action, ...options] = text.slice(eq + 1).split(',');
  const input: FaultRuleInput = { name: target!, type: typeParts[0] ?? null, action: action ?? '' };
  for (const option of options) {
    const m = /^([a-z]+)=(.*)$/.exec(option.trim());
    const key = m?.[1];
    if (!m || !['probability', 'every', 'count', 'from', 'transport', 'until', 'case'].includes(key!)) {
      throw bad(text, `option "${option}"`, 'is not one of probability=P, every=N, count=N, from=CIDR, transport=udp|tcp, until=T, case=exact');
    }
    (input as unknown as Record<string, string>)[key!] = m[2]!;
  }
  return toFaultRule(input, now, text);
}

/** A fault action in the rule's own form (`delay:300`, `servfail`). */
export function actionText(a: FaultAction): string {
  return a.kind === 'delay' || a.kind === 'transfer-delay' ? `${a.kind}:${a.ms}` : a.kind === 'ttl' ? `ttl:${a.ttl}` : a.kind;
}

/** A validated rule in the flag's own form, as lists and logs show it. */
export function ruleText(r: FaultRule): string {
  return describeRule({
    name: r.name, type: r.type === null ? null : typeName(r.type), action: actionText(r.action), probability: r.probability, every: r.every,
    count: r.count, from: r.from, transport: r.transport, until: r.until === null ? null : new Date(r.until).toISOString(),
    case: r.spelling === null ? null : 'exact',
  }, r.spelling === null ? r.name : `${r.name.startsWith('*.') ? '*' : ''}${r.spelling}`);
}

/** A rule in the flag's own form. */
export function describeRule(r: Pick<FaultRuleInput, 'name' | 'type' | 'action'> & Partial<FaultRuleInput>, name: string = r.name): string {
  const options = (['probability', 'every', 'count', 'from', 'transport', 'until', 'case'] as const).flatMap((k) => (r[k] === undefined || r[k] === null ? [] : [`${k}=${r[k]}`]));
  return `${name}${r.type ? `/${r.type}` : ''}=${r.action}${options.map((o) => `,${o}`).join('')}`;
}
