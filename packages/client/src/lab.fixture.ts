import { CLASS, TYPE } from '@kmslab/dns-wire';
import { DnsServer, ZoneSet, defaultZone, type QueryLog } from '@kmslab/dns';
import { MemoryStore, startHostService, type HostService } from '@kmslab/host';
import type { Clock } from '@kmslab/core';

/**
 * For the client's unit tests: a real KMS host and a real kmslab DNS server on
 * loopback. `lab.test` holds `_vlmcs._tcp` → kms1 (127.0.0.1, the host's
 * port); each name in `emptyZones` is a zone with no records.
 */
export async function startClientLab(o: { clock?: Clock; emptyZones?: readonly string[]; queryLog?: QueryLog | null } = {}): Promise<{ dns: DnsServer; kms: HostService } & AsyncDisposable> {
  const kms = await startHostService({ hostId: 'kms1', store: await MemoryStore.open(), ...(o.clock && { clock: o.clock }), listen: ['127.0.0.1'], port: 0, admin: null });
  const zones = new ZoneSet();
  const lab = defaultZone('lab.test');
  lab.add({ name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, class: CLASS.IN, ttl: 600, data: { type: 'SRV', priority: 0, weight: 0, port: kms.host.port, target: 'kms1.lab.test' } });
  lab.add({ name: 'kms1.lab.test', type: TYPE.A, class: CLASS.IN, ttl: 600, data: { type: 'A', address: '127.0.0.1' } });
  zones.add(lab);
  for (const z of o.emptyZones ?? []) zones.add(defaultZone(z));
  const dns = await DnsServer.start({ zones, listen: ['127.0.0.1'], port: 0, queryLog: o.queryLog ?? null });
  const close = async () => {
    await kms.close();
    await dns.close();
  };
  return { dns, kms, [Symbol.asyncDispose]: close };
}
