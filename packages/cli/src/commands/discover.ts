import { parseHostPort } from '@kmslab/core';
import { Command, Option } from 'commander';
import { collect } from '../options.js';
import { printJson } from '../output.js';

export function discoverCommand(): Command {
  return new Command('discover')
    .description('find KMS hosts as a client does and explain every step: SRV queries, order, addresses, connect and handshake')
    .option('--domain <domain>', 'domain to search, repeatable (default: the DNS suffix search list)', collect)
    .option('--dns <host:port>', 'DNS server (default: the first nameserver of /etc/resolv.conf)')
    .addOption(new Option('--selection <mode>', 'how to order SRV records').choices(['rfc2782', 'random']).default('rfc2782'))
    .option('--json', 'print JSON')
    .action(async (o: { domain?: string[]; dns?: string; selection: 'rfc2782' | 'random'; json?: boolean }) => {
      const { diagnoseDiscovery, systemNameserver, systemSearchList } = await import('@kmslab/client');
      const dns = o.dns ? parseHostPort(o.dns, { defaultPort: 53, what: '--dns' }) : (systemNameserver() ?? { host: '127.0.0.1', port: 53 });
      const domains = o.domain ?? systemSearchList();
      const report = await diagnoseDiscovery({ dns, domains, random: Math.random, mode: o.selection });
      if (o.json) printJson({ dns: `${dns.host}:${dns.port}`, domains, ...report });
      else {
        const lines = [`DNS server ${dns.host}:${dns.port}; domains: ${domains.join(', ') || '(none)'}`];
        for (const s of report.steps) lines.push(`  ${s.step.padEnd(8)} ${s.text}`);
        for (const l of report.lookups) if (l.errorCode) lines.push(`  lookup   ${l.name}: ${l.outcome} → a Windows client reports ${l.errorCode}`);
        for (const h of report.hosts) lines.push(`  connect  ${h.target}:${h.port} at ${h.address}: ${h.verdict}`);
        lines.push(report.usable ? 'Result: a usable kmslab host was found.' : `Result: ${report.errorCode}: ${report.message}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      process.exitCode = report.usable ? 0 : 2;
    });
}
