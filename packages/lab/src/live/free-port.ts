import { createServer } from 'node:net';

/** A TCP port free on loopback right now (the kernel picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Whether `port` can be bound on `host` right now. */
function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * A free port whose companion `port + offset` is free too (and a port at
 * all): a Redis Cluster node listens on its port and on its bus port, port +
 * 10000, and a free port from the kernel's ephemeral range may have its bus
 * port taken, or above 65535.
 */
export async function freePortPair(offset: number, host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await freePort(host);
    if (port + offset <= 65535 && (await bindable(port + offset, host))) return port;
  }
  throw new Error(`no free port with port + ${offset} free on ${host} in 50 tries`);
}
