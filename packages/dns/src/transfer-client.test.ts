import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLASS, TYPE, updateZone, type ResourceRecord } from '@kmslab/dns-wire';
import { loadDnsConfig } from './dns-config.js';
import { afterEach, describe, expect, test } from 'vitest';
import { startDnsService, type DnsService } from './dns-service.js';
import { transferIncremental, transferZone } from './transfer-client.js';
import { parseKeyPolicy } from './update/policy.js';
import { HISTORY_MAX_DIFFS } from './zone/zone-history.js';

const admin = parseKeyPolicy('admin:hmac-sha256:a21zbGFiLXRlc3Qtc2VjcmV0LWtleS0wMTIzNDU2Nzg5');
const open: DnsService[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function primary() {
  const dns = await startDnsService({ dataDir: null, listen: ['127.0.0.1'], port: 0, keys: [admin], replication: { allowTransfer: ['127.0.0.0/8'] }, queryLog: { size: 0 } });
  open.push(dns);
  const at = { host: '127.0.0.1', port: dns.server.port };
  const a = (name: string): ResourceRecord => ({ name, type: TYPE.A, class: CLASS.IN, ttl: 60, data: { type: 'A', address: '192.0.2.1' } });
  const add = (name: string) => updateZone(at, 'lab.test', [a(name)], admin.key, Date.now());
  const soa = () => dns.server.zones.get('lab.test')!.soa;
  return { dns, at, add, soa };
}

describe('IXFR as a secondary asks it (RFC 1995)', () => {
  test('from the serial held: the SOA alone when current, the changes when the history reaches back, the whole zone when it does not', async () => {
    const p = await primary();
    const source = { ...p.at, zone: 'lab.test' };
    expect(await transferIncremental({ ...source, have: p.soa() })).toEqual({ kind: 'current' });
    const have = p.soa();
    await p.add('a.lab.test');
    await p.add('b.lab.test');
    const two = await transferIncremental({ ...source, have });
    expect(two).toMatchObject({ kind: 'diffs', diffs: [{ deleted: [], added: [{ name: 'a.lab.test' }] }, { deleted: [], added: [{ name: 'b.lab.test' }] }] });
    expect(two.kind === 'diffs' && two.diffs.map((d) => [d.from - (have.data as { serial: number }).serial, d.to - (have.data as { serial: number }).serial])).toEqual([[0, 1], [1, 2]]);
    for (let i = 0; i <= HISTORY_MAX_DIFFS; i++) await p.add(`h${i}.lab.test`);
    const full = await transferIncremental({ ...source, have });
    expect(full.kind).toBe('full');
    expect(full.kind === 'full' && full.records.map((r) => r.name)).toEqual((await transferZone(source)).map((r) => r.name));
  });

  test('a kmslab secondary follows by IXFR (its log says so), and by AXFR when it fell further behind than the history', async () => {
    const p = await primary();
    const lines: Array<Record<string, unknown>> = [];
    const logger = { info: (o: Record<string, unknown>) => lines.push(o), warn: () => {}, error: () => {}, debug: () => {}, child: () => logger } as never;
    const s = await startDnsService({ dataDir: null, listen: ['127.0.0.1'], port: 0, queryLog: { size: 0 }, logger, secondary: { zones: [`lab.test@127.0.0.1:${p.at.port}`] } });
    open.push(s);
    const follower = s.server.secondaries[0]!;
    const transfers = () => lines.filter((l) => l.event === 'secondary-transferred');
    expect(transfers()).toEqual([expect.objectContaining({ how: 'AXFR', reason: 'start' })]);
    await p.add('one.lab.test');
    await follower.refresh('test');
    expect(transfers().at(-1)).toMatchObject({ how: 'IXFR', records: 1, serial: p.soa().data && (p.soa().data as { serial: number }).serial });
    expect(s.server.zones.get('lab.test')!.rrset('one.lab.test', TYPE.A)).toBeDefined();
    for (let i = 0; i <= HISTORY_MAX_DIFFS; i++) await p.add(`far${i}.lab.test`);
    await follower.refresh('test');
    expect(transfers().at(-1)).toMatchObject({ how: 'AXFR', serial: (p.soa().data as { serial: number }).serial });
    expect(s.server.zones.get('lab.test')!.records().length).toBe(p.dns.server.zones.get('lab.test')!.records().length);
  });

  test('the config file follows zones too ("secondary", "secondaryKey", as --secondary and --secondary-key); a wrong entry is one line naming the field', async () => {
    const p = await primary();
    await p.add('cfg.lab.test');
    const dir = mkdtempSync(join(tmpdir(), 'kmslab-secondary-config-'));
    try {
      const file = join(dir, 'dns.json');
      writeFileSync(file, JSON.stringify({ secondary: [`lab.test@127.0.0.1:${p.at.port}`] }));
      const s = await startDnsService({ config: loadDnsConfig(file), dataDir: null, listen: ['127.0.0.1'], port: 0, queryLog: { size: 0 } });
      open.push(s);
      expect(s.server.secondaries.map((x) => x.state())).toEqual([expect.objectContaining({ zone: 'lab.test', primary: `127.0.0.1:${p.at.port}`, serial: (p.soa().data as { serial: number }).serial })]);
      expect(s.server.zones.get('lab.test')!.rrset('cfg.lab.test', TYPE.A)).toBeDefined();
      writeFileSync(file, JSON.stringify({ secondary: ['lab.test'] }));
      expect(() => loadDnsConfig(file)).toThrow(expect.objectContaining({ code: 'KMSLAB_INVALID_ARGUMENT', message: expect.stringMatching(/dns\.json: secondary: --secondary "lab\.test": must be ZONE@HOST\[:PORT\]/) }));
      writeFileSync(file, JSON.stringify({ secondary: [`lab.test@127.0.0.1:${p.at.port}`], secondaryKey: 'nobody' }));
      await expect(startDnsService({ config: loadDnsConfig(file), dataDir: null, listen: ['127.0.0.1'], port: 0 })).rejects.toThrow(/--secondary-key nobody: no such TSIG key/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
