/**
 * `@kmslab/lab/live`: the real processes a `--live` lab run starts, each on
 * loopback — a redis-server on a free port, a kmslab command in its own
 * process, a kmslab DNS server — for scripts and tests that want the same
 * parts without a scenario. The main entry (`@kmslab/lab`) is the lab model:
 * simulation, scenarios, fleet, reports, the training lab.
 */
export { freePort } from './free-port.js';
export { RedisServer, requireRedisServer } from './redis-server.js';
export { startKmslabProcess, type KmslabProcess } from './kmslab-process.js';
export { ProcessDns, type LabDns } from '../lab-dns.js';
