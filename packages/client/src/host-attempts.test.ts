import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { MemoryStore, startHostService, type HostService } from '@kmslab/host';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HostAttempts, askHost, type HostRequest } from './host-attempts.js';

// A real host, a web server and a port nothing listens on, all on loopback; the host's clock is the test's.
const NOW = Date.UTC(2026, 11, 5, 12);
let kms: HostService;
let web: Server;
let deadPort: number;
beforeAll(async () => {
  kms = await startHostService({ hostId: 'kms1', store: await MemoryStore.open(), clock: { now: () => NOW }, listen: ['127.0.0.1'], port: 0, admin: null });
  web = createServer((_, res) => res.end('hello'));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  // A port that was free a moment ago: connecting to it is refused.
  const probe = createTcpServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  deadPort = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
});
afterAll(async () => {
  await kms.close();
  await new Promise((r) => web.close(r));
});

const request = (over: Partial<HostRequest> = {}): HostRequest => ({
  cmid: crypto.randomUUID(), productId: 'windows-10-enterprise', fqdn: 'pc1.lab.test', clientTime: NOW, renewal: false, licenseStatus: 'initial-grace', ...over,
});
const timeouts = { connectTimeoutMs: 1000, requestTimeoutMs: 1000 };
const webPort = () => (web.address() as AddressInfo).port;

describe('the hosts one attempt asks (kms-reference.md "Discovery", "Client errors")', () => {
  test('the first host that answers is the outcome; the ones before it are in tried', async () => {
    const attempts = new HostAttempts();
    expect(await attempts.ask('127.0.0.1', deadPort, 'dns', request(), timeouts)).toBeNull();
    const outcome = await attempts.ask('127.0.0.1', kms.host.port, 'dns', request(), timeouts);
    expect(outcome).toMatchObject({ host: `127.0.0.1:${kms.host.port}`, discoveredBy: 'dns', errorCode: '0xC004F038', response: { licensed: false, threshold: 25 } });
    expect(outcome!.tried).toEqual([{ host: `127.0.0.1:${deadPort}`, discoveredBy: 'dns', error: expect.stringMatching(/^KMSLAB_CONNECTION_FAILED: /) }]);
  });

  test('a dead port and a service that is not kmslab are both unreachable: 0xC004F074, naming each host tried', async () => {
    const attempts = new HostAttempts();
    await attempts.ask('127.0.0.1', deadPort, 'cache', request(), timeouts);
    await attempts.ask('127.0.0.1', webPort(), 'dns', request(), timeouts);
    const failed = attempts.failed();
    expect(failed).toMatchObject({ errorCode: '0xC004F074', response: null, host: null, discoveredBy: null });
    expect(failed.tried.map((t) => [t.discoveredBy, t.error.split(':')[0]])).toEqual([['cache', 'KMSLAB_CONNECTION_FAILED'], ['dns', 'KMSLAB_MALFORMED_FRAME']]);
    expect(failed.message).toContain(`127.0.0.1:${webPort()} (dns)`);
  });

  test("a host's refusal is what the client reports when no host answers, even when an unreachable one came after", async () => {
    const attempts = new HostAttempts();
    // A client clock a day off: the host refuses it (the 4-hour rule, 0xC004F06C).
    await attempts.ask('127.0.0.1', kms.host.port, 'dns', request({ clientTime: NOW + 24 * 3_600_000 }), timeouts);
    await attempts.ask('127.0.0.1', deadPort, 'dns', request(), timeouts);
    expect(attempts.failed()).toMatchObject({ errorCode: '0xC004F06C', response: null, tried: [{ error: expect.stringMatching(/^0xC004F06C: /) }, { error: expect.stringMatching(/^KMSLAB_CONNECTION_FAILED: /) }] });
  });

  test("a request the client itself got wrong is thrown, not counted as a host's failure", async () => {
    await expect(new HostAttempts().ask('127.0.0.1', kms.host.port, 'dns', request({ cmid: 'not-a-uuid' }), timeouts)).rejects.toMatchObject({ code: 'KMSLAB_INVALID_ARGUMENT' });
  });

  test('askHost: one named host, the same outcome and the same rule, found "manual"', async () => {
    expect(await askHost('127.0.0.1', kms.host.port, request(), timeouts)).toMatchObject({ discoveredBy: 'manual', response: { licensed: false } });
    expect(await askHost('127.0.0.1', deadPort, request(), timeouts)).toMatchObject({ errorCode: '0xC004F074', tried: [{ host: `127.0.0.1:${deadPort}`, discoveredBy: 'manual' }] });
  });
});
