import { Command } from 'commander';
import { DEFAULT_ADMIN_ADDRESS, KmsLabError, LICENSE_STATUS_NAMES } from '@kmslab/core';
import type { HostStatus } from '@kmslab/host';
import { printJson } from '../output.js';
import { adminBase, adminFetch, adminUnreachable, askingAdmin, type AdminTokenFlags } from '../admin-token.js';

const STATUS_LABELS: Record<string, string> = {
  unlicensed: 'Unlicensed',
  licensed: 'Licensed',
  'initial-grace': 'Initial grace period',
  'out-of-tolerance-grace': 'License expired or hardware out of tolerance',
  'non-genuine-grace': 'Non-genuine grace period',
  notification: 'Notification',
  'extended-grace': 'Extended grace period',
};

/** Readable like `slmgr /dlv` on a KMS host (kms-reference.md "What a host shows"). */
export function formatStatus(s: HostStatus): string {
  const lines = [
    `Key Management Service is enabled on this machine (host id ${s.hostId}, ${s.software})`,
    `    Listening on Port: ${s.kms.port} (${s.kms.addresses.map((a) => a.address).join(', ')})`,
    `    DNS publishing ${s.dnsPublishing ? 'enabled' : 'disabled'}`,
    `    Key group: ${s.keyGroup.name} (${s.keyGroup.id})`,
    `    License packs: ${s.licensePacks.length ? s.licensePacks.map((p) => p.name).join(', ') : 'none'}`,
    `    Activation interval: ${s.activationIntervalMin} minutes`,
    `    Renewal interval: ${s.renewalIntervalMin} minutes`,
    `    Store: ${s.store.kind} (${s.store.healthy ? 'healthy' : `UNAVAILABLE${s.store.error ? `: ${s.store.error}` : ''}`})`,
  ];
  for (const [family, f] of Object.entries(s.families)) {
    lines.push('', `Key Management Service cumulative requests received from clients (${family})`);
    if (f.totalRequests === 0) {
      lines.push('    Current count: no requests yet');
      continue;
    }
    lines.push(`    Current count: ${f.currentCount}`);
    lines.push(`    Total requests received: ${f.totalRequests}`);
    lines.push(`    Failed requests received: ${f.failedRequests}`);
    for (const status of LICENSE_STATUS_NAMES) {
      lines.push(`    Requests with License Status ${STATUS_LABELS[status]}: ${f.requestsByStatus[status] ?? 0}`);
    }
  }
  lines.push('', `This replica (pid ${s.replica.pid}): ${s.replica.requestsServed} requests served, ${s.replica.connections} connections, ${s.replica.realKmsClients} real KMS clients turned away`);
  return lines.join('\n');
}

export function hostStatusCommand(): Command {
  return askingAdmin(new Command('status').description("show a running host's counts and statistics, like slmgr /dlv"), { description: "the host's admin listener", default: `http://${DEFAULT_ADMIN_ADDRESS}` })
    .option('--json', 'print the /status JSON')
    .action(async (o: AdminTokenFlags & { admin: string; json?: boolean }) => {
      const base = adminBase(o.admin);
      const res = await adminFetch(base, new URL('/status', base), o, { signal: AbortSignal.timeout(5000) });
      let status: HostStatus;
      try {
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        status = (await res.json()) as HostStatus;
      } catch (err) {
        throw new KmsLabError('KMSLAB_CONNECTION_FAILED', adminUnreachable(base, err));
      }
      if (o.json) printJson(status);
      else process.stdout.write(`${formatStatus(status)}\n`);
    });
}
