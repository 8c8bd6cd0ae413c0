import { hostname } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { Catalog, DEFAULT_ADMIN_ADDRESS, DEFAULT_KMS_PORT } from '@kmslab/core';
import type { StoreConfig } from '@kmslab/host';
import type { LogFormat } from '../logger.js';
import { collect, intOption } from '../options.js';

interface StartOptions {
  port: number;
  listen?: string[];
  store: 'memory' | 'redis';
  redisUrl: string;
  dataDir?: string;
  hostId: string;
  keyGroup?: string;
  licensePack?: string[];
  admin: string;
  catalog?: string[];
  activationInterval?: number;
  renewalInterval?: number;
  logLevel: string;
  logFormat?: LogFormat;
}

function defaultHostId(): string {
  return hostname().replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64) || 'kmslab-host';
}

export function hostStartCommand(): Command {
  return new Command('start')
    .description('start a KMS host on TCP 1688 (embedded memory store by default)')
    .option('--port <n>', 'KMS port (0 picks a free one)', intOption('--port', 0, 65535), DEFAULT_KMS_PORT)
    .option('--listen <addr>', 'address to listen on, repeatable (default: dual-stack ::)', collect)
    .addOption(new Option('--store <kind>', 'where counts are kept').choices(['memory', 'redis']).default('memory'))
    .option('--redis-url <url>', 'Redis for --store redis', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
    .option('--data-dir <dir>', 'folder for the memory store snapshot and journal (default: .kmslab/<host-id>)')
    .option('--host-id <id>', 'logical host id; replicas with the same id share one count', defaultHostId())
    .option('--key-group <id>', 'host key group or its lab key (default: the newest server group)')
    .option('--license-pack <id>', 'installed license pack, repeatable (e.g. office-2013)', collect)
    .option('--admin <host:port>', 'admin HTTP listener for /status, /metrics, /healthz ("off" to disable)', DEFAULT_ADMIN_ADDRESS)
    .option('--catalog <file>', 'extra product catalog (JSON), repeatable', collect)
    .option('--activation-interval <min>', 'retry interval clients are told to use', intOption('--activation-interval', 15, 43_200))
    .option('--renewal-interval <min>', 'renewal interval clients are told to use', intOption('--renewal-interval', 15, 43_200))
    .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info'))
    .addOption(new Option('--log-format <format>', 'log format (default: pretty on a terminal, else json)').choices(['json', 'pretty']))
    .action(async (o: StartOptions) => {
      // Loaded here so that the other commands start fast.
      const [{ KmsHost, openStore }, { createLogger, logReady }] = await Promise.all([import('@kmslab/host'), import('../logger.js')]);
      const logger = createLogger(o.logLevel, o.logFormat);
      const catalog = Catalog.load(o.catalog ?? []);
      const storeConfig: StoreConfig =
        o.store === 'redis'
          ? { kind: 'redis', url: o.redisUrl, hostId: o.hostId }
          : { kind: 'memory', dataDir: o.dataDir ?? process.env.KMSLAB_DATA_DIR ?? join('.kmslab', o.hostId) };
      const store = await openStore(storeConfig);
      const host = await KmsHost.start({
        hostId: o.hostId,
        store,
        catalog,
        logger,
        keyGroup: o.keyGroup,
        licensePacks: o.licensePack,
        listen: o.listen,
        port: o.port,
        admin: o.admin === 'off' ? null : o.admin,
        activationIntervalMin: o.activationInterval,
        renewalIntervalMin: o.renewalInterval,
      });
      // Machine-readable start line on stdout for scripts and tests that use port 0.
      const ready = { hostId: o.hostId, port: host.port, admin: host.adminUrl, store: store.kind, dataDir: storeConfig.kind === 'memory' ? storeConfig.dataDir : undefined };
      logReady(logger, ready, `KMS on port ${host.port}, admin ${host.adminUrl ?? 'off'}, ${store.kind} store`);
      // JSON logs are buffered (logger.ts): a quiet host still shows its lines within a second.
      const flusher = setInterval(() => logger.flush(), 1000).unref();
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          logger.info({ event: 'signal', signal }, `${signal}: draining`);
          host.close().then(resolve, resolve);
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      clearInterval(flusher);
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
    });
}
