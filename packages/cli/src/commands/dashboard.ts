import { Command } from 'commander';
import { KmsLabError } from '@kmslab/core';
import { ADMIN_TOKEN_ENV, adminBase, adminTokenFrom } from '../admin-token.js';
import type { LogFormat } from '../logger.js';
import { collect, logFormatOption, logLevelOption } from '../options.js';
import { withEnvironment } from '../help/layout.js';

interface DashboardCommandOptions {
  admin?: string[];
  dnsAdmin?: string;
  listen: string;
  adminToken?: string;
  adminTokenFile?: string;
  adminReadOnly?: boolean;
  adminAllowedHost?: string[];
  logLevel: string;
  logFormat?: LogFormat;
}

/** `kmslab dashboard`: one live page for hosts and a DNS server running in other processes (docs/admin-api.md "Dashboard"). */
export function dashboardCommand(): Command {
  return withEnvironment(new Command('dashboard'), ADMIN_TOKEN_ENV)
    .description("serve one live web page for many processes: the hosts' counts and the DNS server's records, queries and faults")
    .option('--admin <url|host:port>', "a host's admin listener, repeatable", collect)
    .option('--dns-admin <url|host:port>', "the DNS server's admin listener (records, query log, faults)")
    .option('--listen <host:port>', 'where to serve the page (loopback unless told otherwise)', '127.0.0.1:9690')
    .option('--admin-token <token>', 'the token of the admin listeners, and the one the page needs (env KMSLAB_ADMIN_TOKEN; beyond loopback one is generated and printed once)')
    .option('--admin-read-only', 'refuse every change from the page (faults)')
    .option('--admin-token-file <file>', 'read the admin token from FILE (keeps it out of ps; env KMSLAB_ADMIN_TOKEN_FILE)')
    .option('--admin-allowed-host <name>', 'a name requests may address the page by, besides IP addresses and localhost (a container or proxy name), repeatable', collect)
    .addOption(logLevelOption('info'))
    .addOption(logFormatOption())
    .action(async (o: DashboardCommandOptions) => {
      if (!o.admin?.length && !o.dnsAdmin) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', 'Give at least one --admin URL (a host) or --dns-admin URL');
      // Loaded here, as the servers are: the other commands start without a web framework.
      const [{ DashboardServer }, { adminTokenFor }, { createLogger, logReady, serveUntilSignal }] = await Promise.all([import('@kmslab/dashboard'), import('@kmslab/server-kit'), import('../logger.js')]);
      const given = adminTokenFrom(o);
      const token = adminTokenFor(o.listen, given);
      const logger = createLogger(o.logLevel, o.logFormat);
      const dashboard = await DashboardServer.start({
        hosts: (o.admin ?? []).map((a) => ({ url: adminBase(a), token: given })),
        dns: o.dnsAdmin ? { url: adminBase(o.dnsAdmin), token: given } : null,
        listen: o.listen,
        token: token?.value,
        readOnly: o.adminReadOnly === true,
        allowedHosts: o.adminAllowedHost,
      });
      // A token made up here rides on this one URL, printed once on stderr, never in the logs: the page swaps it for a cookie.
      if (token?.generated) process.stderr.write(`kmslab: open the dashboard at ${dashboard.url}/?token=${encodeURIComponent(token.value)}\n`);
      logReady(logger, { url: dashboard.url, hosts: (o.admin ?? []).length, dns: o.dnsAdmin !== undefined, readOnly: o.adminReadOnly === true }, `dashboard at ${dashboard.url}`);
      await serveUntilSignal(logger, () => dashboard.close(), 'stopping');
    });
}
