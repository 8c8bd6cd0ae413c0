import { Command } from 'commander';
import { DEFAULT_ADMIN_ADDRESS, parseHostPort } from '@kmslab/core';
import { adminBase, adminHeaders, askingAdmin, type AdminTokenFlags } from '../admin-token.js';

/**
 * The container image's HEALTHCHECK: healthy when the host's admin
 * listener says so (`/healthz` 200), or, in a DNS container, when the DNS
 * server answers a query over TCP at all. Exit 0 healthy, 1 not.
 */
export function healthcheckCommand(): Command {
  return askingAdmin(new Command('healthcheck').description('exit 0 when the kmslab host (admin /healthz) or DNS server in this container is healthy'), {
    description: 'the host admin listener to ask', default: DEFAULT_ADMIN_ADDRESS,
  })
    .option('--dns <host:port>', 'the DNS server to ask when no host runs', '127.0.0.1:53')
    .action(async (o: AdminTokenFlags & { admin: string; dns: string }) => {
      const admin = await fetch(`${adminBase(o.admin)}/healthz`, { headers: adminHeaders(o), signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => null);
      if (admin === 401) {
        // The listener serves, but the store's health needs the token; a generated one only the host's own output shows.
        process.stdout.write('host admin /healthz: 401 (alive; set KMSLAB_ADMIN_TOKEN for the store health)\n');
        process.exitCode = 0;
        return;
      }
      if (admin !== null) {
        process.stdout.write(`host admin /healthz: ${admin}\n`);
        process.exitCode = admin === 200 ? 0 : 1;
        return;
      }
      const { TYPE, query } = await import('@kmslab/dns-wire');
      const dns = parseHostPort(o.dns, { defaultPort: 53, what: '--dns' });
      const answered = await query(dns, '.', TYPE.SOA, { transport: 'tcp' }).then(() => true, () => false);
      process.stdout.write(`${answered ? 'DNS answers' : 'neither a host nor a DNS server answers'}\n`);
      process.exitCode = answered ? 0 : 1;
    });
}
