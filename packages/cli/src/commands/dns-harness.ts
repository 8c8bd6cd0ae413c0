import { Command, Option } from 'commander';
import { KmsLabError } from '@kmslab/core';
import type { QueryLogEntry } from '@kmslab/dns';
import { adminBase, adminFetch, adminUnreachable, askingAdmin, type AdminTokenFlags } from '../admin-token.js';
import { readEventStream } from '../event-stream.js';
import { intOption } from '../options.js';
import { printJson, table } from '../output.js';

interface AdminFlags extends AdminTokenFlags {
  admin: string;
  json?: boolean;
}

/** A request to a DNS admin listener; its one-line errors become kmslab's. */
export async function call(o: AdminFlags, path: string, init: RequestInit = {}): Promise<Response> {
  const base = adminBase(o.admin);
  const res = await adminFetch(base, `${base}${path}`, o, { ...init, headers: init.body ? { 'content-type': 'application/json' } : {} }, (b, err) =>
    adminUnreachable(b, err).replace('kmslab host start', 'kmslab dns start --admin HOST:PORT'),
  );
  if (res.status >= 400) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', (await res.text()).trim());
  return res;
}

const adminOptions = (c: Command) => askingAdmin(c, { description: "the DNS server's admin listener (kmslab dns start --admin)", required: true }).option('--json', 'print JSON');

/** A query log entry as the admin API sends it (JSON, with its ISO time). */
type LoggedQuery = QueryLogEntry & { time: string };

const line = (q: LoggedQuery) =>
  `${q.time}  ${q.client.address}:${q.client.port} ${q.transport}  ${q.qname ?? '-'} ${q.qtype ?? '-'}  ${q.rcode ?? 'no answer'} ${q.answers} ans  ${q.latencyMs} ms${q.fault ? `  fault ${q.fault.id} ${q.fault.action}` : ''}`;

/** `kmslab dns queries`: the query log, and with --follow a `tail -f` of it. */
export function dnsQueriesCommand(): Command {
  return adminOptions(new Command('queries').description("show the DNS server's query log (with --follow, new queries as they arrive)"))
    .option('--name <name>', 'only this name, or *.suffix')
    .option('--type <type>', 'only this query type')
    .option('--limit <n>', 'the newest N (at most 10000: the API pages with before=SEQ)', intOption('--limit', 1, 10_000), 100)
    .option('--follow', 'keep printing queries as they arrive (Ctrl-C stops)')
    .action(async (o: AdminFlags & { name?: string; type?: string; limit: number; follow?: boolean }) => {
      const params = new URLSearchParams({ ...(o.name && { name: o.name }), ...(o.type && { type: o.type }) });
      const print = (q: LoggedQuery) => process.stdout.write(`${o.json ? JSON.stringify(q) : line(q)}\n`);
      if (!o.follow) {
        const list = (await (await call(o, `/queries?${params}&limit=${o.limit}`)).json()) as LoggedQuery[];
        if (o.json) return printJson(list);
        for (const q of list) print(q);
        return;
      }
      await readEventStream(await call(o, `/queries/stream?${params}`), print);
    });
}

interface FaultView {
  id: string;
  rule: string;
  matched: number;
  applied: number;
}

/** `kmslab dns fault add|list|remove|clear`: faults switched on and off at run time (docs/dns-faults.md). */
export function dnsFaultCommand(): Command {
  const fault = new Command('fault').description('switch DNS faults on and off on a running kmslab DNS server (docs/dns-faults.md)');
  fault.addCommand(
    adminOptions(new Command('add').description('add a fault rule'))
      .requiredOption('--name <name>', 'query name, or *.suffix')
      .option('--type <type>', 'only this query type')
      .requiredOption('--action <action>', 'servfail, refused, nxdomain, nodata, drop, delay:MS, truncate, ttl:N, formerr, notimp, update-refused, update-notauth, notify-drop, transfer-refused, transfer-delay:MS')
      .option('--probability <p>', 'apply to this share of matching queries (0 to 1)')
      .option('--every <n>', 'apply to every Nth matching query')
      .option('--count <n>', 'apply to the first N matching queries')
      .option('--from <cidr>', 'only queries from this client prefix')
      .addOption(new Option('--transport <t>', 'only this transport').choices(['udp', 'tcp']))
      .option('--until <time>', 'stop at this ISO time, or after a duration (10m, 6h)')
      .addOption(new Option('--case <mode>', 'exact: only the name spelled exactly so (a filter that matches bytes)').choices(['exact', 'any']))
      .action(async (o: AdminFlags & Record<string, string | undefined>) => {
        const rule = Object.fromEntries(['name', 'type', 'action', 'probability', 'every', 'count', 'from', 'transport', 'until', 'case'].flatMap((k) => (o[k] === undefined ? [] : [[k, o[k]]])));
        const added = (await (await call(o, '/faults', { method: 'POST', body: JSON.stringify(rule) })).json()) as FaultView;
        if (o.json) return printJson(added);
        process.stdout.write(`fault ${added.id}: ${added.rule}\n`);
      }),
  );
  fault.addCommand(
    adminOptions(new Command('list').description('list the fault rules, with how many queries each matched and changed')).action(async (o: AdminFlags) => {
      const list = (await (await call(o, '/faults')).json()) as FaultView[];
      if (o.json) return printJson(list);
      if (list.length === 0) return void process.stdout.write('no faults\n');
      process.stdout.write(`${table([['ID', 'MATCHED', 'APPLIED', 'RULE'], ...list.map((f) => [f.id, String(f.matched), String(f.applied), f.rule])])}\n`);
    }),
  );
  fault.addCommand(
    adminOptions(new Command('remove').description('remove one fault rule').argument('<id>', 'the id `fault list` shows')).action(async (id: string, o: AdminFlags) => {
      await call(o, `/faults/${encodeURIComponent(id)}`, { method: 'DELETE' });
      if (!o.json) process.stdout.write(`fault ${id} removed\n`);
    }),
  );
  fault.addCommand(
    adminOptions(new Command('clear').description('remove every fault rule')).action(async (o: AdminFlags) => {
      await call(o, '/faults', { method: 'DELETE' });
      if (!o.json) process.stdout.write('faults cleared\n');
    }),
  );
  return fault;
}


/** What `GET /grants` answers: secure zones, groups, grants, and who owns each name. */
export interface GrantsView {
  secureZones: string[];
  groups: Record<string, string[]>;
  grants: Record<string, string[]>;
  owners: Array<{ zone: string; name: string; owner: string; grantedTo: string[] }>;
}

function printGrants(v: GrantsView): void {
  const lines = [`secure zones: ${v.secureZones.join(', ') || '(none)'}`];
  for (const [g, keys] of Object.entries(v.groups)) lines.push(`group ${g}: ${keys.join(', ')}`);
  for (const [name, groups] of Object.entries(v.grants)) lines.push(`grant on ${name}: ${groups.join(', ')}`);
  if (v.owners.length) lines.push(table([['NAME', 'OWNER', 'GRANTED TO'], ...v.owners.map((o) => [`${o.name}.`, o.owner, o.grantedTo.join(', ') || '-'])]));
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * `kmslab dns grant`: secure zones, groups of keys and grants on a running
 * server (POST /grants), as an AD admin grants a group of KMS hosts on the
 * `_vlmcs._tcp` record; with nothing to add, what holds now (GET /grants).
 */
export function dnsGrantCommand(): Command {
  const collect = (v: string, prev: string[] = []) => [...prev, v];
  return adminOptions(new Command('grant').description('grant a group of keys on a name of a secure zone (AD: "Change the Default DNS Permissions for SRV Records"), or list grants and owners'))
    .option('--group <name=key,…>', 'a group of TSIG keys, e.g. kms-hosts=kms1,kms2 (keys are added to a group already there), repeatable', collect)
    .option('--grant <dnsname=group>', 'the group may change the name whoever owns it, e.g. _vlmcs._tcp.lab.test=kms-hosts, repeatable', collect)
    .option('--secure-zone <zone>', 'make a served zone secure-only (each name owned by the key that created it), repeatable', collect)
    .action(async (o: AdminFlags & { group?: string[]; grant?: string[]; secureZone?: string[] }) => {
      const { parseGrant, parseGroup } = await import('@kmslab/dns');
      const groups: Record<string, string[]> = {};
      for (const t of o.group ?? []) {
        const g = parseGroup(t);
        groups[g.group] = [...(groups[g.group] ?? []), ...g.keys];
      }
      const grants: Record<string, string[]> = {};
      for (const t of o.grant ?? []) {
        const g = parseGrant(t);
        grants[g.name] = [...(grants[g.name] ?? []), g.group];
      }
      const change = o.group || o.grant || o.secureZone;
      const res = change
        ? await call(o, '/grants', { method: 'POST', body: JSON.stringify({ groups, grants, secureZones: o.secureZone ?? [] }) })
        : await call(o, '/grants');
      const view = (await res.json()) as GrantsView;
      if (o.json) return printJson(view);
      printGrants(view);
    });
}

/** `kmslab dns scavenge`: a scavenging pass now (POST /scavenge), or with --dry-run what one would remove. */
export function dnsScavengeCommand(): Command {
  return adminOptions(new Command('scavenge').description('run a scavenging pass now: remove the stale records of aging zones (--aging), or list them with --dry-run'))
    .option('--dry-run', 'list what a pass would remove, remove nothing')
    .action(async (o: AdminFlags & { dryRun?: boolean }) => {
      const res = await call(o, `/scavenge${o.dryRun ? '?dryRun=1' : ''}`, { method: 'POST' });
      const out = (await res.json()) as { dryRun: boolean; removed: Array<{ zone: string; name: string; type: string; ttl: number; data: string; refreshedAt: string }> };
      if (o.json) return printJson(out);
      const verb = out.dryRun ? 'would remove' : 'removed';
      if (out.removed.length === 0) return void process.stdout.write(`no stale records: the pass ${verb} nothing\n`);
      process.stdout.write(`${out.removed.length} stale record${out.removed.length === 1 ? '' : 's'} ${verb}:\n${table([['NAME', 'TTL', 'TYPE', 'DATA', 'LAST REFRESHED'], ...out.removed.map((r) => [`${r.name}.`, String(r.ttl), r.type, r.data, r.refreshedAt])])}\n`);
    });
}
