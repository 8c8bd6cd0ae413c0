import { expect, test } from 'vitest';
import { parseHostPort } from './host-port.js';

test('HOST[:PORT] in every form the CLI, client and admin listener take', () => {
  expect(parseHostPort('kms1.lab.test', { defaultPort: 1688 })).toEqual({ host: 'kms1.lab.test', port: 1688 });
  expect(parseHostPort('10.0.0.5:1700', { defaultPort: 1688 })).toEqual({ host: '10.0.0.5', port: 1700 });
  expect(parseHostPort('[::1]:53', { defaultPort: 1688 })).toEqual({ host: '::1', port: 53 });
  expect(parseHostPort('::1', { defaultPort: 1688 })).toEqual({ host: '::1', port: 1688 });
  expect(parseHostPort('127.0.0.1:0', { allowPortZero: true })).toEqual({ host: '127.0.0.1', port: 0 });
  expect(() => parseHostPort('127.0.0.1:0', { defaultPort: 1688, what: '--host' })).toThrow('--host must be HOST[:PORT] (got "127.0.0.1:0")');
  expect(() => parseHostPort('127.0.0.1', { what: 'The admin address' })).toThrow('The admin address must be HOST:PORT');
  expect(() => parseHostPort('a:99999', { defaultPort: 1 })).toThrow(/must be HOST\[:PORT\]/);
});
