import { connect, type Socket } from 'node:net';

/** A bare TCP connection to 127.0.0.1:port, open: what a hostile or idle client holds. */
export function rawConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}
