import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect, test } from 'vitest';
import { requireFreePorts } from './support/free-ports.js';

test('a fixed port the docs use that something else holds fails at once, naming the holder (never a server the test did not start)', async () => {
  const squatter = createServer();
  await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
  const port = (squatter.address() as AddressInfo).port;
  try {
    await expect(requireFreePorts([port], "the README's commands")).rejects.toThrow(
      new RegExp(`^port ${port} is taken by node \\(pid ${process.pid}\\): the README's commands use it as written; stop it, then run the tests again$`),
    );
  } finally {
    await new Promise((r) => squatter.close(r));
  }
  await expect(requireFreePorts([port], 'x')).resolves.toBeUndefined();
});
