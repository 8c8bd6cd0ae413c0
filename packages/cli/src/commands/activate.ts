import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Command, Option } from 'commander';
import { Catalog, DEFAULT_KMS_PORT, KmsLabError, LICENSE_STATUS_NAMES, parseDurationMs, parseHostPort, type LicenseStatus } from '@kmslab/core';
import type { ActivationResult } from '@kmslab/client';
import { printJson } from '../output.js';
import { collect, intOption } from '../options.js';

interface ActivateOptions {
  host: string;
  product: string;
  cmid?: string;
  fqdn: string;
  renew?: boolean;
  status?: LicenseStatus;
  clientTime?: string;
  catalog?: string[];
  timeout: number;
  json?: boolean;
}

function parseClientTime(value: string | undefined): number {
  if (value === undefined) return Date.now();
  // "+5h", "-90m", "+3h59m", "+1d": an offset from now, for trying the 4-hour rule.
  const offset = /^[+-]/.test(value) ? parseDurationMs(value, { signed: true }) : null;
  if (offset !== null) return Date.now() + offset;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `--client-time must be an ISO time or an offset like +5h, -90m, +3h59m or +1d (got "${value}")`);
  return t;
}

export function activateCommand(): Command {
  return new Command('activate')
    .description('send one activation (or renewal) request to a KMS host')
    .requiredOption('--host <host[:port]>', 'KMS host to ask')
    .requiredOption('--product <id>', 'product id from `kmslab products`')
    .option('--cmid <uuid>', 'client machine id (default: a new random one, i.e. a new client)')
    .option('--fqdn <name>', 'client FQDN', hostname())
    .option('--renew', 'send a renewal instead of an activation')
    .addOption(new Option('--status <status>', "client's license status when it asks (default: initial-grace; a licensed client renewing says --status licensed)").choices(LICENSE_STATUS_NAMES))
    .option('--client-time <time>', 'client time: ISO time or offset from now like +5h (default: now)')
    .option('--catalog <file>', 'extra product catalog (JSON), repeatable', collect)
    .option('--timeout <ms>', 'connect and answer timeout', intOption('--timeout', 1, 600_000), 5000)
    .option('--json', 'print one JSON object')
    .action(async (o: ActivateOptions) => {
      const catalog = Catalog.load(o.catalog ?? []);
      const product = catalog.product(o.product);
      const target = parseHostPort(o.host, { defaultPort: DEFAULT_KMS_PORT, what: '--host' });
      const cmid = (o.cmid ?? randomUUID()).toLowerCase();
      // The same outcome, and the same 0xC004F074 rule, as a client's attempt (@kmslab/client host-attempts);
      // loaded here, not with the command tree, so `kmslab --help` does not load the client.
      const { activationResult, askHost } = await import('@kmslab/client');
      const outcome = await askHost(target.host, target.port, {
        cmid, productId: product.id, fqdn: o.fqdn, clientTime: parseClientTime(o.clientTime),
        renewal: Boolean(o.renew), licenseStatus: o.status ?? 'initial-grace',
      }, { connectTimeoutMs: o.timeout, requestTimeoutMs: o.timeout });
      const result = activationResult(outcome, product, cmid);
      if (o.json) printJson(result);
      else process.stdout.write(`${formatResult(result, product.name)}\n`);
      process.exitCode = result.licensed ? 0 : 2;
    });
}

function formatResult(r: ActivationResult, name: string): string {
  if (r.licensed) return `${name}: licensed by ${r.hostId} at ${r.host} (count ${r.count}, threshold ${r.threshold})`;
  if (r.count !== null) return `${name}: not licensed, count ${r.count} of ${r.threshold}, ${r.threshold - r.count} more distinct clients needed (${r.errorCode}: ${r.message})`;
  return `${name}: not licensed (${r.errorCode}: ${r.message})`;
}
