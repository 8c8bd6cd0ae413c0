// A user's test against the lab the global setup started, found only through the environment
// (as a program that is not Node would find it), and a lab of its own inside the test.
import { expect, inject, test } from 'vitest';
import { TYPE, query } from '@kmslab/dns-wire';
import { startLab } from '@kmslab/testing';

const srvAt = async (dns) => {
  const [host, port] = dns.split(':');
  const { answer } = await query({ host, port: Number(port) }, `_vlmcs._tcp.${process.env.KMSLAB_DOMAIN}`, TYPE.SRV);
  return answer.answers.map((r) => `${r.data.priority} ${r.data.target}`).sort();
};

test('the global lab: KMSLAB_DNS answers the SRV lookup with both hosts; inject gives the same', async () => {
  expect((await srvAt(process.env.KMSLAB_DNS)).map((s) => s.replace(/\.$/, ''))).toEqual(['0 kms1.lab.test', '10 kms2.lab.test']);
  expect(inject('kmslab')).toMatchObject({ KMSLAB_DNS: process.env.KMSLAB_DNS, KMSLAB_DOMAIN: 'lab.test' });
});

test('a lab of this test: activate through its DNS', async () => {
  // Plain JavaScript on Node 20 has no `await using`: stop it in finally.
  const lab = await startLab();
  try {
    expect(await lab.activate({ product: 'windows-10-pro' })).toMatchObject({ count: 1, discoveredBy: 'dns' });
  } finally {
    await lab.stop();
  }
});
