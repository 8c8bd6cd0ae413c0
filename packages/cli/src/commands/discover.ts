import { formatHostPort } from '@kmslab/core';
import { dnsResolver } from '../dns-servers.js';
import { Command, Option } from 'commander';
import { collect, profileOption } from '../options.js';
import { printJson } from '../output.js';
import { printCheck, runCheck } from './discover-check.js';

interface DiscoverFlags {
  domain?: string[];
  dns?: string[];
  selection: 'rfc2782' | 'random';
  profile: 'windows' | 'plain';
  json?: boolean;
  check?: boolean;
  lookupDomain?: string;
  zoneFile?: string;
  connect: boolean;
}

export function discoverCommand(): Command {
  return new Command('discover')
    .description('find KMS hosts as a client does and explain every step; --check: a verdict on the DNS setup, with findings (docs/discover-check.md)')
    .option('--domain <domain>', 'domain to search, repeatable (default: the DNS suffix search list)', collect)
    .option('--dns <host:port>', 'DNS server, repeatable: each asked in turn (default: the nameservers of /etc/resolv.conf with its options)', collect)
    .addOption(new Option('--selection <mode>', 'how to order SRV records').choices(['rfc2782', 'random']).default('rfc2782'))
    .addOption(profileOption())
    .option('--check', 'check the DNS setup as a Windows client would meet it: findings with ids, exit 0 none, 1 warnings, 2 errors')
    .option('--lookup-domain <domain>', 'with --check: a pinned lookup domain (KeyManagementServiceLookupDomain, set-domain), asked alone')
    .option('--zone-file <file>', 'with --check: check a zone file offline (its $ORIGIN, or --domain)')
    .option('--no-connect', 'with --check: do not try TCP connections to the targets')
    .option('--json', 'print JSON')
    .action(async (o: DiscoverFlags) => {
      if (o.check || o.zoneFile || o.lookupDomain) {
        const report = await runCheck(o);
        if (o.json) printJson(report);
        else printCheck(report);
        process.exitCode = report.exitCode;
        return;
      }
      const { Resolver, diagnoseDiscovery, systemSearchList } = await import('@kmslab/client');
      const dns = (await dnsResolver(o.dns)) ?? new Resolver({ servers: [{ host: '127.0.0.1', port: 53 }], attempts: 1 });
      const domains = o.domain ?? systemSearchList();
      const report = await diagnoseDiscovery({ dns, domains, profile: o.profile, random: Math.random, mode: o.selection });
      const servers = dns.servers.map((s) => formatHostPort(s.host, s.port));
      if (o.json) printJson({ dns: servers.join(', '), servers, domains, ...report });
      else {
        const lines = [`DNS server${servers.length > 1 ? 's' : ''} ${servers.join(', ')}; domains: ${domains.join(', ') || '(none)'}`];
        for (const s of report.steps) lines.push(`  ${s.step.padEnd(8)} ${s.text}`);
        for (const l of report.lookups) if (l.errorCode) lines.push(`  lookup   ${l.name}: ${l.outcome} → a Windows client reports ${l.errorCode}`);
        for (const h of report.hosts) lines.push(`  connect  ${h.target}:${h.port} at ${h.address}: ${h.verdict}`);
        lines.push(report.usable ? 'Result: a usable kmslab host was found.' : `Result: ${report.errorCode}: ${report.message}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      process.exitCode = report.usable ? 0 : 2;
    });
}
