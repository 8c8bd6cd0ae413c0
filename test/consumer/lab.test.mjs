// A user's own integration test: the installed @kmslab/testcontainers on the real Docker engine,
// with the project's own testcontainers (11 on Node 20, 12 on Node >= 22.22).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startKmsLab } from '@kmslab/testcontainers';

let lab;
beforeAll(async () => {
  lab = await startKmsLab({ zone: 'lab.test', hosts: [{ name: 'kms1', priority: 0 }] });
}, 300_000);
afterAll(() => lab?.stop(), 120_000);

test('resolves _vlmcs._tcp and activates a client in a container', async () => {
  expect((await lab.resolveSrv()).map((r) => r.target)).toEqual(['kms1.lab.test']);
  const client = await lab.startClient();
  expect(await client.activate('windows-10-pro')).toMatchObject({ discoveredBy: 'dns', host: 'kms1.lab.test:1688', count: 1 });
}, 180_000);
