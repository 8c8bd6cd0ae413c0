import { join } from 'node:path';
import { Command, Option } from 'commander';
import { KmsLabError, parseHostPort } from '@kmslab/core';
import { ADMIN_TOKEN_ENV, adminTokenFrom, askingAdmin, printGeneratedToken } from '../admin-token.js';
import { secretFrom, secretsFrom } from '../secrets.js';
import { call, dnsFaultCommand, dnsGrantCommand, dnsQueriesCommand, dnsScavengeCommand, type GrantsView } from './dns-harness.js';
import type { LogFormat } from '../logger.js';
import { collect, intOption, logFormatOption, logLevelOption } from '../options.js';
import { printJson, table } from '../output.js';
import { withEnvironment } from '../help/layout.js';

interface DnsStartOptions {
  listen?: string[];
  port?: number;
  zone?: string[];
  zoneFile?: string[];
  tsigKey?: string[];
  tsigKeyFile?: string[];
  dataDir?: string;
  config?: string;
  fault?: string[];
  seed?: number;
  queryLog?: string;
  queryLogSize: number;
  queryLogFollowers: number;
  admin?: string;
  adminToken?: string;
  adminTokenFile?: string;
  adminReadOnly?: boolean;
  adminAllowedHost?: string[];
  secureZone?: string[];
  group?: string[];
  grant?: string[];
  aging?: string[];
  scavengePeriod?: string;
  notify?: string[];
  notifyKey?: string;
  secondary?: string[];
  secondaryKey?: string;
  allowTransfer?: string[];
  logLevel: string;
  logFormat?: LogFormat;
}

function dnsStartCommand(): Command {
  return withEnvironment(new Command('start'), {
    KMSLAB_DNS_DATA_DIR: 'the data dir when --data-dir is not given',
    ...ADMIN_TOKEN_ENV,
    KMSLAB_TSIG_KEY: 'more TSIG keys (as --tsig-key), space-separated',
    KMSLAB_TSIG_KEY_FILE: 'a file of more keys, one a line (as --tsig-key-file)',
  })
    .description('start the authoritative DNS server (UDP and TCP) for the lab zones')
    .option('--listen <addr>', 'address to listen on, repeatable (default: dual-stack ::)', collect)
    .option('--port <n>', 'DNS port (0 picks a free one; default 53)', intOption('--port', 0, 65535))
    .option('--zone <name>', 'serve a new zone with only SOA, NS and the name server address, repeatable (default: lab.test)', collect)
    .option('--zone-file <file>', 'serve a zone from a master file, repeatable', collect)
    .option('--tsig-key <name:alg:secret[:grants]>', 'TSIG key for dynamic updates and transfers, repeatable; grants: zone (default), host=FQDN, name=FQDN, subdomain=FQDN (visible in ps: prefer --tsig-key-file or KMSLAB_TSIG_KEY)', collect)
    .option('--tsig-key-file <file>', 'read TSIG keys from FILE, one a line (# comments), repeatable', collect)
    .option('--config <file>', 'structured config (JSON): listen, port, dataDir, zones (file or records), keys with grants; flags add to it')
    .option('--data-dir <dir>', 'keep dynamically updated zones here, so a restart keeps them (default: .kmslab/dns)')
    .option('--fault <rule>', 'a fault on from the start, repeatable: NAME[/TYPE]=ACTION[,OPTION=VALUE…] with options probability, every, count, from, transport, until, case (docs/dns-faults.md)', collect)
    .option('--seed <n>', 'seed for fault probabilities (repeatable runs)', intOption('--seed', 0, 2 ** 31))
    .option('--query-log <file>', 'also append every query and update to FILE as JSON lines')
    .option('--query-log-size <n>', 'queries kept in memory for the query log (0: no query log)', intOption('--query-log-size', 0, 10_000_000), 10_000)
    .option('--query-log-followers <n>', 'followers of /queries/stream at once (more are refused with 503)', intOption('--query-log-followers', 0, 10_000), 16)
    .option('--admin <host:port>', 'admin HTTP listener: /queries, /queries/stream, /faults, /metrics, /healthz (loopback unless told otherwise)')
    .option('--admin-token <token>', 'bearer token the admin listener requires (env KMSLAB_ADMIN_TOKEN; beyond loopback one is generated and printed once)')
    .option('--admin-read-only', 'the admin listener refuses every change (faults) with 403')
    .option('--admin-token-file <file>', 'read the admin token from FILE (keeps it out of ps; env KMSLAB_ADMIN_TOKEN_FILE)')
    .option('--secure-zone <zone>', 'a secure-only zone, as AD-integrated zones are: each name owned by the key that created it; another key is REFUSED unless granted (repeatable)', collect)
    .option('--group <name=key,…>', 'a group of TSIG keys for grants, e.g. kms-hosts=kms1,kms2 (repeatable)', collect)
    .option('--grant <dnsname=group>', 'the group may change the name whoever owns it, e.g. _vlmcs._tcp.lab.test=kms-hosts (repeatable)', collect)
    .option('--aging <zone=norefresh/refresh>', 'age the zone\'s dynamic records as Windows DNS does, e.g. lab.test=7d/7d: a record not refreshed for both intervals is removed by the next scavenging pass (repeatable; off by default)', collect)
    .option('--scavenge-period <duration>', 'how often a scavenging pass runs (default 7d)')
    .option('--notify <host:port>', 'a secondary to tell of every change by NOTIFY (RFC 1996), repeatable', collect)
    .option('--notify-key <name>', 'sign NOTIFY with this TSIG key (one of --tsig-key)')
    .option('--allow-transfer <cidr>', 'secondaries in this prefix may transfer (AXFR, IXFR) without a key, repeatable', collect)
    .option('--secondary <zone@host:port>', 'follow ZONE from a primary (BIND, another kmslab): transfers at start, on its NOTIFY and by its SOA timers; SERVFAIL until loaded and past its expire (repeatable)', collect)
    .option('--secondary-key <name>', 'sign the transfers of --secondary with this TSIG key (one of --tsig-key)')
    .option('--admin-allowed-host <name>', 'a name requests may address the admin listener by, besides IP addresses and localhost (a container or proxy name), repeatable', collect)
    .addOption(logLevelOption('info'))
    .addOption(logFormatOption())
    .action(async (o: DnsStartOptions) => {
      // Loaded here, as the servers are: the other commands start without a web framework.
      const [{ startDnsService, parseFaultRule, parseKeyPolicy, loadDnsConfig }, { adminTokenFor }, { createLogger, logReady, serveUntilSignal }] = await Promise.all([import('@kmslab/dns'), import('@kmslab/server-kit'), import('../logger.js')]);
      // Everything a user gave is checked before anything listens: a mistake is one line naming what is wrong.
      const faults = (o.fault ?? []).map((rule) => parseFaultRule(rule, Date.now()));
      const config = o.config ? loadDnsConfig(o.config) : undefined;
      const keys = secretsFrom({ flags: o.tsigKey, files: o.tsigKeyFile, variable: 'KMSLAB_TSIG_KEY', what: 'TSIG key' }).map(parseKeyPolicy);
      const token = o.admin ? adminTokenFor(o.admin, adminTokenFrom(o)) : null;
      const logger = createLogger(o.logLevel, o.logFormat);
      const dns = await startDnsService({
        config, zoneFiles: o.zoneFile, zones: o.zone, keys, faults, seed: o.seed, listen: o.listen, port: o.port,
        dataDir: o.dataDir ?? config?.dataDir ?? process.env.KMSLAB_DNS_DATA_DIR ?? join('.kmslab', 'dns'),
        queryLog: { size: o.queryLogSize, file: o.queryLog, followers: o.queryLogFollowers },
        secure: { zones: o.secureZone, groups: o.group, grants: o.grant },
        aging: { zones: o.aging, scavengePeriod: o.scavengePeriod },
        replication: { notify: o.notify, notifyKey: o.notifyKey, allowTransfer: o.allowTransfer },
        secondary: { zones: o.secondary, key: o.secondaryKey },
        admin: o.admin ? { listen: o.admin, token: token?.value, readOnly: o.adminReadOnly === true, allowedHosts: o.adminAllowedHost } : null,
        logger,
      });
      if (token?.generated && dns.adminUrl) printGeneratedToken(dns.adminUrl, token.value);
      const { server, adminUrl } = dns;
      logReady(logger, { port: server.port, addresses: server.addresses, zones: dns.zones, admin: adminUrl, restored: dns.restored }, `DNS on port ${server.port} (UDP and TCP) for ${dns.zones.join(', ')}${adminUrl ? `, admin ${adminUrl}` : ''}`);
      await serveUntilSignal(logger, () => dns.close(), 'stopping');
    });
}

function dnsRecordsCommand(): Command {
  const records = new Command('records')
    .description("list a zone's records, fetched by zone transfer (AXFR) from a DNS server")
    .option('--dns <host:port>', 'the DNS server to ask (as --dns everywhere else)', '127.0.0.1:53')
    .addOption(new Option('--server <host:port>', 'old name of --dns').hideHelp())
    .option('--zone <name>', 'the zone', 'lab.test')
    .option('--tsig-key <name:alg:secret>', 'sign the transfer (a kmslab DNS server with keys lets only a key with a zone or transfer grant transfer)')
    .option('--tsig-key-file <file>', 'read the TSIG key from FILE')
    .option('--owners', "with each record, the key that owns its name and the groups granted on it (a secure zone; asks the server's admin listener, --admin)");
  return askingAdmin(records, { description: "the DNS server's admin listener, for --owners" }, {
    KMSLAB_TSIG_KEY: 'the TSIG key, when no --tsig-key(-file) is given',
    KMSLAB_TSIG_KEY_FILE: 'a file holding it (as --tsig-key-file)',
  })
    .option('--json', 'print JSON')
    .action(async (o: { dns: string; server?: string; zone: string; tsigKey?: string; tsigKeyFile?: string; json?: boolean; owners?: boolean; admin?: string; adminToken?: string; adminTokenFile?: string }) => {
      const [{ transferZone, presentRData }, { typeName, parseTsigKey }] = await Promise.all([import('@kmslab/dns'), import('@kmslab/dns-wire')]);
      const { host, port } = parseHostPort(o.server ?? o.dns, { defaultPort: 53, what: '--dns' });
      const keyText = secretFrom({ flag: o.tsigKey, file: o.tsigKeyFile, option: '--tsig-key', variable: 'KMSLAB_TSIG_KEY', what: 'TSIG key' });
      // A key with grants (dns start's form) signs as NAME:ALG:SECRET.
      const key = keyText ? parseTsigKey(keyText.split(':').slice(0, 3).join(':')) : null;
      if (o.owners && !o.admin) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', "--owners needs the DNS server's admin listener: --admin HOST:PORT (kmslab dns start --admin)");
      const records = await transferZone({ host, port, zone: o.zone, key });
      const owners = new Map<string, { owner: string; grantedTo: string[] }>();
      if (o.owners) {
        const view = (await (await call({ ...o, admin: o.admin! }, '/grants')).json()) as GrantsView;
        for (const x of view.owners) owners.set(x.name, x);
      }
      const ownerOf = (name: string) => owners.get(name.toLowerCase().replace(/\.$/, ''));
      if (o.json) {
        return printJson(records.map((r) => ({ name: r.name, type: typeName(r.type), ttl: r.ttl, data: presentRData(r.data), fields: r.data, ...(o.owners && { owner: ownerOf(r.name)?.owner ?? null, grantedTo: ownerOf(r.name)?.grantedTo ?? [] }) })));
      }
      const rows = [['NAME', 'TTL', 'TYPE', 'DATA', ...(o.owners ? ['OWNER', 'GRANTED TO'] : [])]];
      for (const r of records) rows.push([`${r.name}.`, String(r.ttl), typeName(r.type), presentRData(r.data), ...(o.owners ? [ownerOf(r.name)?.owner ?? '-', ownerOf(r.name)?.grantedTo.join(', ') || '-'] : [])]);
      process.stdout.write(`${table(rows)}\n`);
    });
}

export function dnsCommand(): Command {
  const dns = new Command('dns').description("run or inspect kmslab's authoritative DNS server");
  dns.addCommand(dnsStartCommand());
  dns.addCommand(dnsRecordsCommand());
  dns.addCommand(dnsQueriesCommand());
  dns.addCommand(dnsFaultCommand());
  dns.addCommand(dnsGrantCommand());
  dns.addCommand(dnsScavengeCommand());
  return dns;
}
