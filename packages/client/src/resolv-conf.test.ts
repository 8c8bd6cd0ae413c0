import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { readResolvConf, systemNameserver, systemResolver, systemSearchList } from './resolv-conf.js';

test('resolv.conf: primary domain first, then the search list (the last of each line wins); first nameserver', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'kmslab-resolv-')), 'resolv.conf');
  writeFileSync(path, '# comment\nsearch old.test\nnameserver 10.0.0.53\nnameserver 10.0.0.54\ndomain Corp.Test.\nsearch branch.test corp.test\n');
  expect(readResolvConf(path)).toEqual({ nameservers: ['10.0.0.53', '10.0.0.54'], searchList: ['corp.test', 'branch.test'] });
  expect(systemSearchList(path)).toEqual(['corp.test', 'branch.test']);
  expect(systemNameserver(path)).toEqual({ host: '10.0.0.53', port: 53 });
  expect(readResolvConf(join(tmpdir(), 'no-such-resolv.conf'))).toEqual({ nameservers: [], searchList: [] });
});

test('resolv.conf options timeout:, attempts: and rotate, within the resolver bounds; every nameserver kept for the resolver', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'kmslab-resolv-')), 'resolv.conf');
  writeFileSync(path, 'nameserver 127.0.0.53\nnameserver ::1\noptions timeout:1 attempts:9 rotate ndots:2\n');
  expect(readResolvConf(path)).toMatchObject({ timeoutMs: 1000, attempts: 5, rotate: true });
  expect(systemResolver(path)).toEqual({ servers: [{ host: '127.0.0.53', port: 53 }, { host: '::1', port: 53 }], timeoutMs: 1000, attempts: 5, rotate: true });
});
