import { BlockList, isIP } from 'node:net';
import { KmsLabError, parseDurationMs } from '@kmslab/core';
import { TYPE, canonicalName, typeName } from '@kmslab/dns-wire';

/** What a fault does to a matching query (or, for `update-*`, to a dynamic update). docs/dns-faults.md */
export type FaultAction =
  | { kind: 'servfail' | 'refused' | 'nxdomain' | 'nodata' | 'drop' | 'truncate' | 'formerr' | 'notimp' | 'update-refused' | 'update-notauth' }
  | { kind: 'delay'; ms: number }
  | { kind: 'ttl'; ttl: number };

const PLAIN_ACTIONS = ['servfail', 'refused', 'nxdomain', 'nodata', 'drop', 'truncate', 'formerr', 'notimp', 'update-refused', 'update-notauth'] as const;

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
  /** The CIDR as a matcher (built once). */
  readonly fromMatcher: BlockList | null;
}

const bad = (rule: string, part: string, why: string): KmsLabError =>
  new KmsLabError('KMSLAB_INVALID_ARGUMENT', `Fault rule "${rule}": ${part} ${why} (docs/dns-faults.md)`);

/** `delay:MS`, `ttl:N` or one of the plain actions. */
function parseAction(text: string, rule: string): FaultAction {
  const [kind, arg, ...rest] = text.trim().toLowerCase().split(':');
  if (rest.length > 0) throw bad(rule, `action "${text}"`, 'has too many ":" parts');
  if (kind === 'delay' || kind === 'ttl') {
    const n = Number(arg);
    const max = kind === 'delay' ? 60_000 : 2 ** 31 - 1;
    if (arg === undefined || !Number.isInteger(n) || n < 0 || n > max) throw bad(rule, `action "${text}"`, `needs ${kind}:N with N a whole number from 0 to ${max}`);
    return kind === 'delay' ? { kind, ms: n } : { kind, ttl: n };
  }
  if (arg !== undefined || !(PLAIN_ACTIONS as readonly string[]).includes(kind!)) {
    throw bad(rule, `action "${text}"`, `is not one of ${PLAIN_ACTIONS.join(', ')}, delay:MS, ttl:N`);
  }
  return { kind: kind as (typeof PLAIN_ACTIONS)[number] };
}

function parseCidr(text: string, rule: string): BlockList {
  const [address, prefixText, ...rest] = text.split('/');
  const family = isIP(address ?? '');
  const max = family === 6 ? 128 : 32;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (rest.length > 0 || family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    throw bad(rule, `from "${text}"`, 'must be an address or a prefix such as 127.0.0.0/8 or ::1/128');
  }
  const list = new BlockList();
  list.addSubnet(address!, prefix, family === 6 ? 'ipv6' : 'ipv4');
  return list;
}

function whole(value: unknown, part: string, rule: string, min: number): number | null {
  if (value === undefined || value === null) return null;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > 2 ** 31) throw bad(rule, `${part} "${String(value)}"`, `must be a whole number of at least ${min}`);
  return n;
}

/** Validates a rule from any source; `now` turns a relative `until` into a time. */
export function toFaultRule(input: FaultRuleInput, now: number, source = describeRule(input)): FaultRule {
  if (typeof input.name !== 'string' || input.name.trim() === '') throw bad(source, 'name', 'is missing');
  const wildcard = input.name.startsWith('*.');
  const name = (wildcard ? '*.' : '') + canonicalName(wildcard ? input.name.slice(2) : input.name);
  let type: number | null = null;
  if (input.type !== undefined && input.type !== null && input.type !== '') {
    const t = (TYPE as Record<string, number>)[String(input.type).toUpperCase()];
    if (t === undefined) throw bad(source, `type "${input.type}"`, `is not one of ${Object.keys(TYPE).join(' ')}`);
    type = t;
  }
  if (typeof input.action !== 'string') throw bad(source, 'action', 'is missing');
  const action = parseAction(input.action, source);
  let probability: number | null = null;
  if (input.probability !== undefined && input.probability !== null) {
    const p = typeof input.probability === 'string' ? Number(input.probability) : input.probability;
    if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 1) throw bad(source, `probability "${String(input.probability)}"`, 'must be a number from 0 to 1');
    probability = p;
  }
  const transport = input.transport ?? null;
  if (transport !== null && transport !== 'udp' && transport !== 'tcp') throw bad(source, `transport "${String(transport)}"`, 'must be udp or tcp');
  let until: number | null = null;
  if (input.until !== undefined && input.until !== null && input.until !== '') {
    const relative = parseDurationMs(String(input.until));
    const absolute = Date.parse(String(input.until));
    if (relative === null && Number.isNaN(absolute)) throw bad(source, `until "${input.until}"`, 'must be an ISO time or a duration such as 10m or 6h');
    until = relative !== null ? now + relative : absolute;
  }
  const from = input.from ?? null;
  return {
    name,
    type,
    action,
    probability,
    every: whole(input.every, 'every', source, 1),
    count: whole(input.count, 'count', source, 1),
    from,
    transport,
    until,
    fromMatcher: from === null ? null : parseCidr(from, source),
  };
}

/**
 * `NAME[/TYPE]=ACTION[,probability=P][,every=N][,count=N][,from=CIDR][,transport=udp|tcp][,until=T]`,
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
    if (!m || !['probability', 'every', 'count', 'from', 'transport', 'until'].includes(key!)) {
      throw bad(text, `option "${option}"`, 'is not one of probability=P, every=N, count=N, from=CIDR, transport=udp|tcp, until=T');
    }
    (input as unknown as Record<string, string>)[key!] = m[2]!;
  }
  return toFaultRule(input, now, text);
}

/** A fault action in the rule's own form (`delay:300`, `servfail`). */
export function actionText(a: FaultAction): string {
  return a.kind === 'delay' ? `delay:${a.ms}` : a.kind === 'ttl' ? `ttl:${a.ttl}` : a.kind;
}

/** A validated rule in the flag's own form, as lists and logs show it. */
export function ruleText(r: FaultRule): string {
  return describeRule({
    name: r.name, type: r.type === null ? null : typeName(r.type), action: actionText(r.action), probability: r.probability, every: r.every,
    count: r.count, from: r.from, transport: r.transport, until: r.until === null ? null : new Date(r.until).toISOString(),
  });
}

/** A rule in the flag's own form. */
export function describeRule(r: Pick<FaultRuleInput, 'name' | 'type' | 'action'> & Partial<FaultRuleInput>): string {
  const options = (['probability', 'every', 'count', 'from', 'transport', 'until'] as const).flatMap((k) => (r[k] === undefined || r[k] === null ? [] : [`${k}=${r[k]}`]));
  return `${r.name}${r.type ? `/${r.type}` : ''}=${r.action}${options.map((o) => `,${o}`).join('')}`;
}
