import { createSocket, type Socket } from 'node:dgram';
import { CLASS, OPCODE, RCODE, TYPE, decodeMessage, encodeMessage, updateZone, type Message } from '@kmslab/dns-wire';
import { afterEach, describe, expect, test } from 'vitest';
import { startDnsService, type DnsService } from './dns-service.js';
import { parseFaultRule } from './harness/fault-rule.js';
import { parseKeyPolicy } from './update/policy.js';

const admin = parseKeyPolicy('admin:hmac-sha256:a21zbGFiLXRlc3Qtc2VjcmV0LWtleS0wMTIzNDU2Nzg5');
const open: Array<DnsService | Socket> = [];
afterEach(async () => {
  for (const x of open.splice(0)) 'server' in x ? await x.close() : x.close();
});

/** A secondary's NOTIFY port on loopback: records each NOTIFY and acknowledges it. */
async function secondary(): Promise<{ port: number; got: Message[]; next: () => Promise<Message> }> {
  const socket = createSocket('udp4');
  open.push(socket);
  const got: Message[] = [];
  let waiting: ((m: Message) => void) | null = null;
  socket.on('message', (raw, rinfo) => {
    const m = decodeMessage(raw);
    got.push(m);
    waiting?.(m);
    const ack = { ...m, qr: true, answers: [], tsig: null };
    socket.send(encodeMessage(ack), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return { port: socket.address().port, got, next: () => new Promise((r) => (waiting = r)) };
}

async function primary(notify: string[], extra: { notifyKey?: string } = {}) {
  const dns = await startDnsService({ dataDir: null, listen: ['127.0.0.1'], port: 0, keys: [admin], replication: { notify, notifyKey: extra.notifyKey }, queryLog: { size: 0 } });
  open.push(dns);
  const change = (name: string) =>
    updateZone({ host: '127.0.0.1', port: dns.server.port }, 'lab.test', [{ name, type: TYPE.A, class: CLASS.IN, ttl: 60, data: { type: 'A', address: '192.0.2.1' } }], admin.key, Date.now());
  return { dns, change };
}

describe('NOTIFY to secondaries (RFC 1996)', () => {
  test('every change sends NOTIFY with the new serial, AA set, SOA question; signed with --notify-key; acknowledged', async () => {
    const s = await secondary();
    const { dns, change } = await primary([`127.0.0.1:${s.port}`], { notifyKey: 'admin' });
    const next = s.next();
    await change('a.lab.test');
    const m = await next;
    expect(m).toMatchObject({ opcode: OPCODE.NOTIFY, aa: true, questions: [{ name: 'lab.test', type: TYPE.SOA }] });
    expect((m.answers[0]!.data as { serial: number }).serial).toBe(dns.server.zones.get('lab.test')!.serial);
    expect(m.tsig?.name).toBe('admin');
  });

  test('a notify-drop fault loses it (nothing reaches the secondary); without it the next change is sent', async () => {
    const s = await secondary();
    const { dns, change } = await primary([`127.0.0.1:${s.port}`]);
    const fault = dns.server.faults.add(parseFaultRule('lab.test=notify-drop', Date.now()));
    const outcomes = dns.server.notifier!.notify(dns.server.zones.get('lab.test')!);
    expect(await outcomes).toEqual([expect.objectContaining({ acknowledged: false, tries: 1 })]);
    expect(s.got).toEqual([]);
    dns.server.faults.remove(fault.id);
    const next = s.next();
    await change('b.lab.test');
    expect((await next).rcode).toBe(RCODE.NOERROR);
  });

  test('--notify and --notify-key are checked before anything listens', async () => {
    await expect(startDnsService({ dataDir: null, port: 0, replication: { notify: ['127.0.0.1:99999'] } })).rejects.toThrow(/--notify/);
    await expect(startDnsService({ dataDir: null, port: 0, replication: { notify: ['127.0.0.1:5300'], notifyKey: 'nope' } })).rejects.toThrow(/--notify-key nope: no such TSIG key/);
  });
});

describe('--secondary', () => {
  test('ZONE@HOST[:PORT] is checked before anything listens; a zone both served and followed is refused', async () => {
    const { parseSecondary } = await import('./secondary.js');
    expect(parseSecondary('Lab.Test@127.0.0.1:5300')).toEqual({ zone: 'lab.test', primary: { host: '127.0.0.1', port: 5300 } });
    expect(parseSecondary('lab.test@192.0.2.53').primary.port).toBe(53);
    expect(() => parseSecondary('lab.test')).toThrow(/--secondary "lab.test": must be ZONE@HOST\[:PORT\]/);
    await expect(startDnsService({ dataDir: null, port: 0, zones: ['lab.test'], secondary: { zones: ['lab.test@127.0.0.1:5300'] } })).rejects.toThrow(/both served here and followed/);
    await expect(startDnsService({ dataDir: null, port: 0, secondary: { zones: ['lab.test@127.0.0.1:5300'], key: 'nope' } })).rejects.toThrow(/--secondary-key nope: no such TSIG key/);
  });
});
