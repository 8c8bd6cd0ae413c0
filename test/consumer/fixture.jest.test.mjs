// The same under jest: the global setup's lab, reached through the environment.
import { TYPE, query } from '@kmslab/dns-wire';

test('KMSLAB_DNS answers the SRV lookup with kms1 at KMSLAB_HOSTS', async () => {
  const [host, port] = process.env.KMSLAB_DNS.split(':');
  const { answer } = await query({ host, port: Number(port) }, `_vlmcs._tcp.${process.env.KMSLAB_DOMAIN}`, TYPE.SRV);
  const kms1 = process.env.KMSLAB_HOSTS.split(',')[0].split('=')[1];
  expect(answer.answers.map((r) => `${r.data.target.replace(/\.$/, '')}:${r.data.port}`)).toEqual([`kms1.lab.test:${kms1.split(':')[1]}`]);
});
