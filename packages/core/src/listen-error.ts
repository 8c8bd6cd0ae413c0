import { formatHostPort } from './host-port.js';
import { KmsLabError } from './errors.js';

/** A bind failure as one line a user can act on (port in use, no permission). */
export function listenFailed(what: string, address: string, port: number, err: NodeJS.ErrnoException): KmsLabError {
  const where = formatHostPort(address, port);
  const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)' : err.message;
  return new KmsLabError('KMSLAB_LISTEN_FAILED', `Cannot listen on ${where} for the ${what}: ${why}`, { cause: err });
}
