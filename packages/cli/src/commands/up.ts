import { kmsSrvName } from '@kmslab/core';
import { Command } from 'commander';
import { collect, intOption, logFormatOption, logLevelOption, numberOption } from '../options.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { printGeneratedToken } from '../admin-token.js';
import { clientStateLine, defaultStateDir } from './client.js';

interface UpOptions {
  zone: string;
  dnsPort: number;
  port: number;
  hosts: number;
  admin: string;
  clients: number;
  timeScale: number;
  dataDir: string;
  listen?: string[];
  seed?: number;
  dnsAdmin: string;
  fault?: string[];
  secondaries: number;
  dashboard?: boolean;
  adminAllowedHost?: string[];
  logLevel: string;
  logFormat?: 'json' | 'pretty';
}

export function upCommand(): Command {
  return new Command('up')
    .description('start a whole lab in one process: DNS for the zone, KMS hosts that publish themselves, optional simulated clients')
    .option('--zone <name>', 'lab DNS zone', 'lab.test')
    .option('--dns-port <n>', 'DNS port (UDP and TCP)', intOption('--dns-port', 0, 65535), 8053)
    .option('--port <n>', 'KMS port of the first host (next hosts: +1, +2…)', intOption('--port', 0, 65535), 1688)
    .option('--hosts <n>', 'KMS hosts (priorities 0, 10, 20…)', intOption('--hosts', 1, 20), 1)
    .option('--admin <host:port>', 'admin listener of the first host (next hosts: +1…)', '127.0.0.1:9688')
    .option('--clients <n>', 'simulated client machines finding the hosts through the lab DNS', intOption('--clients', 0, 100_000), 0)
    .option('--time-scale <x>', 'lab time runs this many times faster, 0.001 to 1000000 (e.g. 720: a day in 2 minutes)', numberOption('--time-scale', 0.001, 1_000_000), 1)
    .option('--data-dir <dir>', "where the hosts keep their counts", '.kmslab/up')
    .option('--listen <addr>', 'address to listen on, repeatable (default: dual-stack ::)', collect)
    .option('--seed <n>', 'seed for client timing and SRV weighting', intOption('--seed', 0, 2 ** 31))
    .option('--dns-admin <host:port>', 'admin listener of the lab DNS: query log, faults ("off" to disable)', '127.0.0.1:8054')
    .option('--fault <rule>', 'a lab DNS fault on from the start, before any client looks up, repeatable: NAME[/TYPE]=ACTION[,OPTION=VALUE…] (docs/dns-faults.md)', collect)
    .option('--secondaries <n>', 'kmslab DNS secondaries of the lab DNS on the ports after it (NOTIFY, IXFR); clients spread across all the servers (docs/secondaries.md)', intOption('--secondaries', 0, 10), 0)
    .option('--admin-allowed-host <name>', 'a name requests may address the admin listeners by, besides IP addresses and localhost, repeatable', collect)
    .option('--no-dashboard', "do not serve the lab's dashboard page on the first host's admin listener")
    .addOption(logLevelOption('warn'))
    .addOption(logFormatOption())
    .action(async (o: UpOptions) => {
      const [{ startTrainingLab }, { createLogger, logReady, serveUntilSignal }, { DashboardPage }] = await Promise.all([import('@kmslab/lab'), import('../logger.js'), import('@kmslab/dashboard')]);
      const logger = createLogger(o.logLevel, o.logFormat);
      // The page is made once the lab runs (it reads the hosts, the DNS admin listener and the lab clock); the first host serves it.
      let page: InstanceType<typeof DashboardPage> | null = null;
      const adminPage = { routes: (app: Parameters<typeof DashboardPage.routes>[0]) => DashboardPage.routes(app, () => page) };
      const lab = await startTrainingLab({ ...o, dnsPort: o.dnsPort, kmsPort: o.port, logger, dnsAdmin: o.dnsAdmin === 'off' ? null : o.dnsAdmin, faults: o.fault, adminAllowedHosts: o.adminAllowedHost, ...(o.dashboard !== false && { adminPage }) });
      if (o.dashboard !== false) {
        page = new DashboardPage({
          hosts: lab.hosts.map((h) => ({ url: h.adminUrl ?? '', status: () => h.status(), clients: () => h.clients(), requests: () => h.requests(), events: h.events })),
          dns: lab.dnsAdmin ? { url: lab.dnsAdmin.url, token: lab.dnsAdmin.token ?? undefined } : null,
          lab: { clock: lab.clock, fleet: () => lab.fleet(), attempts: () => lab.attempts() },
        });
        await page.start();
      }
      if (lab.dnsAdmin?.generated) printGeneratedToken(lab.dnsAdmin.url, lab.dnsAdmin.token!);
      const first = lab.hosts[0]!;
      for (const h of lab.hosts) if (h.adminTokenGenerated) printGeneratedToken(h.adminUrl!, h.adminToken!);
      logReady(logger, { dnsPort: lab.dnsPort, secondaryPorts: lab.secondaryPorts, zone: lab.zone, hosts: lab.hosts.map((h) => ({ port: h.port, admin: h.adminUrl })), clients: lab.clients.length, dnsAdmin: lab.dnsAdmin?.url ?? null, dashboard: page && first.adminUrl ? `${first.adminUrl}/` : null }, `lab ${lab.zone} up`);
      // The Try line's client keeps its state between runs (a MAK set yesterday still applies): say so.
      const clientDir = defaultStateDir();
      const client = existsSync(join(clientDir, 'client.json')) ? (await import('@kmslab/client')).loadClientState(clientDir) : null;
      process.stdout.write(
        [
          `kmslab lab "${lab.zone}" is up${o.timeScale !== 1 ? ` (time × ${o.timeScale})` : ''}:`,
          `  DNS       127.0.0.1:${lab.dnsPort} (UDP+TCP)   dig @127.0.0.1 -p ${lab.dnsPort} ${kmsSrvName(lab.zone)} SRV`,
          ...lab.secondaryPorts.map((p) => `  Secondary 127.0.0.1:${p} (follows 127.0.0.1:${lab.dnsPort} by NOTIFY and IXFR)   dig @127.0.0.1 -p ${p} ${kmsSrvName(lab.zone)} SRV`),
          ...lab.hosts.map((h, i) => `  KMS host  kms${i + 1}.${lab.zone}:${h.port}, admin ${h.adminUrl}   pnpm kmslab host status --admin ${h.adminUrl}`),
          `  Clients   ${lab.clients.length} simulated`,
          ...lab.restored.map((r) => `  Restored  ${r.host}: count ${r.count}, ${r.requests} requests from ${r.from} (an earlier run; kmslab reset forgets it)`),
          ...(lab.dnsAdmin ? [`  DNS admin ${lab.dnsAdmin.url}   pnpm kmslab dns fault add --admin ${lab.dnsAdmin.url} --name ${kmsSrvName(lab.zone)} --action servfail`] : []),
          ...(page && first.adminUrl ? [`  Dashboard ${first.adminUrl}/`] : []),
          `  Try       pnpm kmslab client activate --product windows-10-pro --dns 127.0.0.1:${lab.dnsPort} --domain ${lab.zone}`,
          `            pnpm kmslab discover --dns 127.0.0.1:${lab.dnsPort} --domain ${lab.zone}`,
          ...(client ? [`            (that client carries over from ${clientDir}: ${clientStateLine(client)})`] : []),
          'Ctrl-C stops the lab.',
          '',
        ].join('\n'),
      );
      const ticker = lab.clients.length
        ? setInterval(async () => {
            const s = await first.status().catch(() => null);
            const licensed = lab.clients.filter((c) => c.licenseStatus === 'licensed').length;
            const counts = s ? Object.entries(s.families).filter(([, f]) => f.totalRequests > 0).map(([fam, f]) => `${fam} ${f.currentCount}`).join(', ') : '?';
            process.stdout.write(`[lab time ${new Date(lab.clock.now()).toISOString().slice(0, 16).replace('T', ' ')}] kms1 count: ${counts || 'no requests yet'}; clients licensed ${licensed}/${lab.clients.length}\n`);
          }, 5000).unref()
        : null;
      await serveUntilSignal(logger, async () => {
        if (ticker) clearInterval(ticker);
        page?.close();
        await lab.close();
      });
      process.stdout.write(`kmslab lab "${lab.zone}" stopped; its hosts' counts are kept in ${o.dataDir} for the next kmslab up (kmslab reset forgets them)\n`);
    });
}
