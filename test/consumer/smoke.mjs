// A user's project, plain Node (no loader): every kmslab package imported and used once.
// Run by test/consumer.test.ts in a fresh project installed from the packed tarballs.
import { spawn } from 'node:child_process';
import { Catalog, formatHostPort } from '@kmslab/core';
import { TYPE, generateTsigSecret, query } from '@kmslab/dns-wire';
import { parseFaultRule } from '@kmslab/dns';
import { MemoryStore } from '@kmslab/host';
import { activateOnce, askHost, newClientState } from '@kmslab/client';
import { parseScenario } from '@kmslab/lab';
import { freePort } from '@kmslab/lab/live';
import { KMSLAB_IMAGE } from '@kmslab/testcontainers';

const out = {};
out.products = Catalog.load().products().length;
out.rule = parseFaultRule('_vlmcs._tcp.lab.test/SRV=servfail', Date.now()).action.kind;
out.scenario = parseScenario('name: x\nhosts:\n  - name: a\n', 'x.yaml').hosts.length;
out.store = (await MemoryStore.open()).kind;
out.image = typeof KMSLAB_IMAGE;
out.freePort = typeof (await freePort());

// The installed kmslab: DNS and a publishing host on free loopback ports, read from their ready lines.
const bin = `${process.env.KMSLAB_CONSUMER_DIR}/node_modules/.bin/kmslab`;
const start = (args) =>
  new Promise((resolve, reject) => {
    const p = spawn(bin, [...args, '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'], cwd: process.env.KMSLAB_CONSUMER_DIR });
    let text = '';
    const timer = setTimeout(() => reject(new Error(`kmslab ${args[0]} did not start:\n${text}`)), 20_000);
    const on = (d) => {
      text += d;
      const line = text.split('\n').find((l) => l.includes('"event":"ready"'));
      if (line) {
        clearTimeout(timer);
        resolve({ p, ready: JSON.parse(line) });
      }
    };
    p.stdout.on('data', on);
    p.stderr.on('data', on);
    p.on('exit', (code) => reject(new Error(`kmslab ${args[0]} exited ${code}:\n${text}`)));
  });
const secret = generateTsigSecret();
const dns = await start(['dns', 'start', '--listen', '127.0.0.1', '--port', '0', '--data-dir', 'dns-data', '--tsig-key', `kms1:hmac-sha256:${secret}:host=kms1.lab.test`]);
const host = await start(['host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', '127.0.0.1:0', '--data-dir', 'host-data', '--publish', '--dns', `127.0.0.1:${dns.ready.port}`,
  '--tsig-key', `kms1:hmac-sha256:${secret}`, '--fqdn', 'kms1.lab.test', '--advertise-address', '127.0.0.1']);
try {
  const target = { host: '127.0.0.1', port: dns.ready.port };
  for (let i = 0; i < 100 && (await query(target, '_vlmcs._tcp.lab.test', TYPE.SRV)).answer.answers.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  const state = newClientState();
  const outcome = await activateOnce({ state, productId: 'windows-10-pro', clock: { now: () => Date.now() }, dns: target, domains: ['lab.test'], random: Math.random });
  out.activation = { discoveredBy: outcome.discoveredBy, count: outcome.response?.count ?? null, host: outcome.host };
  out.hostAddress = formatHostPort('127.0.0.1', host.ready.port);
  // One request to the named host, as `kmslab activate` sends it: a second client, count 2.
  const asked = await askHost('127.0.0.1', host.ready.port, { cmid: crypto.randomUUID(), productId: 'windows-10-pro', fqdn: 'probe.lab.test', clientTime: Date.now(), renewal: false, licenseStatus: 'initial-grace' }, { connectTimeoutMs: 5000, requestTimeoutMs: 5000 });
  out.asked = { count: asked.response?.count ?? null, discoveredBy: asked.discoveredBy };
} finally {
  host.p.kill();
  dns.p.kill();
}
console.log(JSON.stringify(out));
