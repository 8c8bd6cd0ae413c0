import { hostname } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { Catalog, DEFAULT_ADMIN_ADDRESS, DEFAULT_KMS_PORT, KmsLabError, SettableClock, parseHostPort } from '@kmslab/core';
import type { PublishConfig, RedisTopology, StoreConfig } from '@kmslab/host';
import type { LogFormat } from '../logger.js';
import { collect, durationOption, intOption, logFormatOption, logLevelOption } from '../options.js';
import { ADMIN_TOKEN_ENV, adminTokenFrom, printGeneratedToken } from '../admin-token.js';
import { secretFrom } from '../secrets.js';
import { withEnvironment } from '../help/layout.js';

interface StartOptions {
  port: number;
  listen?: string[];
  store: 'memory' | 'redis';
  redisUrl: string;
  redisCluster?: string;
  redisSentinels?: string;
  redisMasterName?: string;
  redisWait?: number;
  durability: 'primary' | 'replica';
  dataDir?: string;
  hostId: string;
  keyGroup?: string;
  licensePack?: string[];
  admin: string;
  adminToken?: string;
  adminTokenFile?: string;
  adminReadOnly?: boolean;
  adminAllowedHost?: string[];
  dashboard?: boolean;
  catalog?: string[];
  activationInterval?: number;
  renewalInterval?: number;
  logLevel: string;
  logFormat?: LogFormat;
  publish?: boolean;
  dns?: string;
  tsigKey?: string;
  tsigKeyFile?: string;
  fqdn?: string;
  advertiseAddress?: string[];
  publishDomain?: string[];
  publishRefresh?: number;
  deregisterOnStop?: boolean;
  makKey?: string[];
  labClock?: string;
}

/** `KEY:COUNT`: a MAK the emulated activation authority knows and how many clients it may activate. */
function parseMakKey(text: string): { key: string; activations: number } {
  const m = /^(KMSLAB-MAK-[A-Z0-9-]+):(\d{1,9})$/.exec(text);
  if (!m) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `--mak-key must be KMSLAB-MAK-…:COUNT, e.g. KMSLAB-MAK-OFFICE-01:10 (got "${text}")`);
  return { key: m[1]!, activations: Number(m[2]) };
}

/** `DOMAIN[,PRIORITY,WEIGHT]`, the DnsDomainPublishList form (kms-reference.md "Discovery"). */
function parsePublishDomain(text: string): { domain: string; priority: number; weight: number } {
  const [domain, priority = '0', weight = '0', ...rest] = text.split(',').map((x) => x.trim());
  const n = (v: string) => Number(v);
  if (!domain || rest.length || ![priority, weight].every((v) => /^\d+$/.test(v) && n(v) <= 65535)) {
    throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `--publish-domain must be DOMAIN[,PRIORITY,WEIGHT] with numbers 0 to 65535 (got "${text}")`);
  }
  return { domain: domain.replace(/\.$/, ''), priority: n(priority), weight: n(weight) };
}

/** --publish: where and with which key (the rest defaults in @kmslab/host, as a KMS host's do). */
async function publishConfig(o: StartOptions): Promise<PublishConfig> {
  const tsigKey = secretFrom({ flag: o.tsigKey, file: o.tsigKeyFile, option: '--tsig-key', variable: 'KMSLAB_TSIG_KEY', what: 'TSIG key' });
  if (!o.dns || !tsigKey) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', '--publish needs --dns HOST:PORT and a TSIG key (--tsig-key-file FILE, KMSLAB_TSIG_KEY or --tsig-key NAME:ALG:SECRET)');
  const { parseTsigKey } = await import('@kmslab/dns-wire');
  return {
    dns: parseHostPort(o.dns, { defaultPort: 53, what: '--dns' }),
    key: parseTsigKey(tsigKey),
    fqdn: o.fqdn,
    domains: (o.publishDomain ?? []).map(parsePublishDomain),
    addresses: o.advertiseAddress,
    refreshMs: o.publishRefresh === undefined ? undefined : o.publishRefresh * 60_000,
  };
}

/** --redis-cluster / --redis-sentinels (ioredis's own Cluster and Sentinel support), else --redis-url. */
function redisTopology(o: StartOptions): RedisTopology {
  const nodes = (list: string, what: string) => list.split(',').map((n) => parseHostPort(n.trim(), { defaultPort: what === '--redis-sentinels' ? 26379 : 6379, what }));
  if (o.redisCluster && o.redisSentinels) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', 'Give --redis-cluster or --redis-sentinels, not both');
  if (o.redisCluster) return { mode: 'cluster', nodes: nodes(o.redisCluster, '--redis-cluster') };
  if (o.redisSentinels) {
    if (!o.redisMasterName) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', '--redis-sentinels needs --redis-master-name NAME');
    return { mode: 'sentinel', sentinels: nodes(o.redisSentinels, '--redis-sentinels'), masterName: o.redisMasterName };
  }
  return { mode: 'single', url: o.redisUrl };
}

function defaultHostId(): string {
  return hostname().replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64) || 'kmslab-host';
}

export function hostStartCommand(): Command {
  const start = new Command('start');
  withEnvironment(start, {
    KMSLAB_DATA_DIR: 'memory store folder when --data-dir is not given',
    REDIS_URL: 'default of --redis-url',
    ...ADMIN_TOKEN_ENV,
    KMSLAB_TSIG_KEY: 'the TSIG key for --publish, when no --tsig-key(-file)',
    KMSLAB_TSIG_KEY_FILE: 'a file holding it (as --tsig-key-file)',
  });
  return start
    .description('start a KMS host on TCP 1688 (embedded memory store by default)')
    .option('--port <n>', 'KMS port (0 picks a free one)', intOption('--port', 0, 65535), DEFAULT_KMS_PORT)
    .option('--listen <addr>', 'address to listen on, repeatable (default: dual-stack ::)', collect)
    .addOption(new Option('--store <kind>', 'where counts are kept').choices(['memory', 'redis']).default('memory'))
    .option('--redis-url <url>', 'Redis for --store redis', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
    .option('--redis-cluster <host:port,...>', 'a Redis Cluster for --store redis (seed nodes) instead of --redis-url')
    .option('--redis-sentinels <host:port,...>', 'Sentinels for --store redis, with --redis-master-name, instead of --redis-url')
    .option('--redis-master-name <name>', 'the Sentinel master name (with --redis-sentinels)')
    .option('--redis-wait <duration>', 'keep trying to reach Redis this long at start-up, e.g. 30s (default: give up at the first refusal)', durationOption('--redis-wait'))
    .addOption(new Option('--durability <when>', 'acknowledge after the Redis primary applied the write, or only after WAIT saw a replica take it').choices(['primary', 'replica']).default('primary'))
    .option('--data-dir <dir>', 'folder for the memory store snapshot and journal (default: .kmslab/<host-id>)')
    .option('--host-id <id>', 'logical host id; replicas with the same id share one count', defaultHostId())
    .option('--key-group <id>', 'host key group or its lab key (default: the newest server group)')
    .option('--license-pack <id>', 'installed license pack, repeatable (e.g. office-2013)', collect)
    .option('--admin <host:port>', 'admin HTTP listener for /status, /metrics, /healthz ("off" to disable)', DEFAULT_ADMIN_ADDRESS)
    .option('--admin-read-only', 'the admin listener refuses every change (the lab clock) with 403')
    .option('--admin-allowed-host <name>', 'a name requests may address the admin listener by, besides IP addresses and localhost (a container or proxy name), repeatable', collect)
    .option('--no-dashboard', 'do not serve the dashboard page at / on the admin listener')
    .option('--admin-token <token>', 'bearer token the admin listener requires (env KMSLAB_ADMIN_TOKEN; beyond loopback one is generated and printed once when none is given)')
.option('--admin-token-file <file>', 'read the admin token from FILE (keeps it out of ps; env KMSLAB_ADMIN_TOKEN_FILE)')
    .option('--catalog <file>', 'extra product catalog (JSON), repeatable', collect)
    .option('--activation-interval <min>', 'retry interval clients are told to use', intOption('--activation-interval', 15, 43_200))
    .option('--renewal-interval <min>', 'renewal interval clients are told to use', intOption('--renewal-interval', 15, 43_200))
    .option('--publish', 'register the host in DNS (_vlmcs._tcp SRV and its address) by RFC 2136 update with TSIG')
    .option('--dns <host:port>', 'DNS server that takes the updates (with --publish)')
    .option('--tsig-key <name:alg:secret>', 'TSIG key for the updates (with --publish; visible in ps: prefer --tsig-key-file or KMSLAB_TSIG_KEY)')
    .option('--tsig-key-file <file>', 'read the TSIG key (NAME:ALG:SECRET) from FILE')
    .option('--fqdn <name>', "the host's DNS name, the SRV target (default: hostname in the first publish domain)")
    .option('--advertise-address <ip>', 'address published for --fqdn, repeatable (default: the listen address, else the local address that reaches --dns, else the first non-loopback IPv4)', collect)
    .option('--publish-domain <domain[,priority,weight]>', 'domain to publish in, repeatable (default: the domain of --fqdn, priority 0, weight 0)', collect)
    .option('--publish-refresh <min>', 're-register every N minutes (default 1440, as a KMS host does)', intOption('--publish-refresh', 1, 525_600))
    .option('--deregister-on-stop', 'remove this host from DNS on a clean shutdown')
    .option('--mak-key <key:count>', 'serve as the activation authority for this lab MAK, with COUNT activations, repeatable', collect)
    .option('--lab-clock <iso-time>', 'lab runs (kmslab lab run --live): start the host clock at this time and let PUT /lab/clock on the admin listener set it')
    .addOption(logLevelOption('info'))
    .addOption(logFormatOption())
    .action(async (o: StartOptions) => {
      // Loaded here so that the other commands start fast.
      const [{ startHostService }, { createLogger, logReady, serveUntilSignal }] = await Promise.all([import('@kmslab/host'), import('../logger.js')]);
      const logger = createLogger(o.logLevel, o.logFormat);
      const catalog = Catalog.load(o.catalog ?? []);
      const publish = o.publish ? await publishConfig(o) : null;
      const labStart = o.labClock === undefined ? null : Date.parse(o.labClock);
      if (labStart !== null && (!Number.isFinite(labStart) || o.admin === 'off')) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `--lab-clock needs an ISO time (got "${o.labClock}") and the admin listener`);
      const storeConfig: StoreConfig =
        o.store === 'redis'
          ? { kind: 'redis', url: o.redisUrl, topology: redisTopology(o), hostId: o.hostId, durability: o.durability, startupWaitMs: o.redisWait }
          : {
              kind: 'memory',
              dataDir: o.dataDir ?? process.env.KMSLAB_DATA_DIR ?? join('.kmslab', o.hostId),
              onWarning: (message) => logger.warn({ event: 'journal-repaired' }, message),
            };
      // The dashboard page at / on the admin listener, reading this host in-process: made from the host before it listens.
      const Dashboard = o.dashboard === false || o.admin === 'off' ? null : (await import('@kmslab/dashboard')).DashboardPage;
      const pages: Array<InstanceType<NonNullable<typeof Dashboard>>> = [];
      const { host, store, carried } = await startHostService({
        store: storeConfig,
        publish,
        adminPage: Dashboard && ((h) => {
          const page = new Dashboard({ hosts: [{ url: 'this host', status: () => h.status(), clients: () => h.clients(), requests: () => h.requests(), events: h.events }], readOnly: o.adminReadOnly === true });
          pages.push(page);
          return page;
        }),
        adminReadOnly: o.adminReadOnly === true,
        adminAllowedHosts: o.adminAllowedHost,
        clockControl: labStart === null ? undefined : new SettableClock(labStart),
        deregisterOnClose: o.deregisterOnStop,
        makKeys: (o.makKey ?? []).map(parseMakKey),
        hostId: o.hostId,
        catalog,
        logger,
        keyGroup: o.keyGroup,
        licensePacks: o.licensePack,
        listen: o.listen,
        port: o.port,
        admin: o.admin === 'off' ? null : o.admin,
        adminToken: adminTokenFrom(o),
        activationIntervalMin: o.activationInterval,
        renewalIntervalMin: o.renewalInterval,
      });
      for (const page of pages) await page.start();
      if (host.adminTokenGenerated) printGeneratedToken(host.adminUrl!, host.adminToken!);
      // Machine-readable start line on stdout for scripts and tests that use port 0.
      const from = storeConfig.kind === 'memory' ? storeConfig.dataDir : o.redisCluster ?? o.redisSentinels ?? o.redisUrl;
      const ready = { hostId: o.hostId, port: host.port, admin: host.adminUrl, store: store.kind, dataDir: storeConfig.kind === 'memory' ? storeConfig.dataDir : undefined, restored: { ...carried, from } };
      const restored = carried.requests > 0 ? `; restored from ${from}: count ${carried.count} (${carried.requests} requests so far; kmslab reset${store.kind === 'redis' ? ' --redis-url URL' : ''} forgets them)` : '';
      logReady(logger, ready, `KMS on port ${host.port}, admin ${host.adminUrl ?? 'off'}, ${store.kind} store${restored}`);
      await serveUntilSignal(logger, async () => {
        for (const page of pages) page.close();
        await host.close();
      }, 'draining');
    });
}
