import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Command, Option } from 'commander';
import {
  Catalog,
  DEFAULT_KMS_PORT,
  ERROR_CODES,
  KmsConnection,
  KmsLabError,
  LICENSE_STATUS_NAMES,
  formatHostPort,
  parseDurationMs,
  parseHostPort,
  type ActivationResponse,
  type LicenseStatus,
} from '@kmslab/core';
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

/** What `activate --json` prints; `count`, `threshold`, `licensed`, `product`, `errorCode` are a public interface. */
export interface ActivateResult {
  product: string;
  host: string;
  cmid: string;
  licensed: boolean;
  count: number | null;
  threshold: number;
  errorCode: string | null;
  message: string | null;
  family: string;
  hostId: string | null;
  activationIntervalMin: number | null;
  renewalIntervalMin: number | null;
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
      const timeout = o.timeout;
      const cmid = (o.cmid ?? randomUUID()).toLowerCase();
      const result: ActivateResult = {
        product: product.id,
        host: formatHostPort(target.host, target.port),
        cmid,
        licensed: false,
        count: null,
        threshold: product.threshold,
        errorCode: null,
        message: null,
        family: product.family,
        hostId: null,
        activationIntervalMin: null,
        renewalIntervalMin: null,
      };
      let response: ActivationResponse | null = null;
      try {
        const conn = await KmsConnection.connect({ ...target, connectTimeoutMs: timeout, requestTimeoutMs: timeout });
        try {
          response = await conn.activate({
            cmid: result.cmid,
            productId: product.id,
            fqdn: o.fqdn,
            clientTime: parseClientTime(o.clientTime),
            kind: o.renew ? 'renewal' : 'activation',
            licenseStatus: o.status ?? 'initial-grace',
          });
        } finally {
          conn.close();
        }
      } catch (err) {
        if (!(err instanceof KmsLabError) || err.code === 'KMSLAB_INVALID_ARGUMENT') throw err;
        // A host that cannot be reached is what a KMS client reports as 0xC004F074.
        const unreachable = err.code === 'KMSLAB_CONNECTION_FAILED' || err.code === 'KMSLAB_TIMEOUT';
        result.errorCode = unreachable ? '0xC004F074' : err.code;
        result.message = unreachable ? `${ERROR_CODES['0xC004F074'].message}: ${err.message}` : err.message;
      }
      if (response) {
        Object.assign(result, {
          licensed: response.licensed,
          count: response.count,
          threshold: response.threshold,
          errorCode: response.errorCode,
          message: response.errorCode ? ERROR_CODES[response.errorCode].message : null,
          family: response.family,
          hostId: response.hostId,
          activationIntervalMin: response.activationIntervalMin,
          renewalIntervalMin: response.renewalIntervalMin,
        });
        if (!response.licensed) result.message = `${result.message}: count ${response.count}, ${response.threshold - response.count} more distinct clients needed`;
      }
      if (o.json) printJson(result);
      else process.stdout.write(`${formatResult(result, product.name)}\n`);
      process.exitCode = result.licensed ? 0 : 2;
    });
}

function formatResult(r: ActivateResult, name: string): string {
  if (r.licensed) return `${name}: licensed by ${r.hostId} at ${r.host} (count ${r.count}, threshold ${r.threshold})`;
  if (r.count !== null) return `${name}: not licensed, count ${r.count} of ${r.threshold} (${r.errorCode}: ${r.message})`;
  return `${name}: not licensed (${r.errorCode}: ${r.message})`;
}
