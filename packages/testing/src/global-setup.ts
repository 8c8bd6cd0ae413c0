import { startLab, type Lab, type LabOptions } from './start-lab.js';

/**
 * Where a lab is, as environment variables for the program under test (a
 * Go, Python or Node service started by the tests): `KMSLAB_DNS`
 * (`127.0.0.1:PORT`, the lab DNS), `KMSLAB_DOMAIN` (the zone to search),
 * `KMSLAB_HOSTS` (`kms1=127.0.0.1:PORT,…`) and `KMSLAB_ADMIN_URLS`.
 */
export function labEnvironment(lab: Lab): Record<string, string> {
  return {
    KMSLAB_DNS: `${lab.dns.host}:${lab.dns.port}`,
    KMSLAB_DOMAIN: lab.zone,
    KMSLAB_HOSTS: lab.hosts.map((h) => `${h.name}=${h.address.host}:${h.address.port}`).join(','),
    KMSLAB_ADMIN_URLS: lab.hosts.map((h) => h.adminUrl ?? '').join(','),
  };
}

/**
 * A vitest `globalSetup` (vitest.config: `globalSetup: ['./kmslab-setup.ts']`,
 * that file `export default vitestGlobalSetup({ … })`): one lab for the whole
 * run, its environment (labEnvironment) set before the test workers start,
 * and `inject('kmslab')` in tests gives the same.
 */
export function vitestGlobalSetup(options: LabOptions = {}) {
  return async (project?: { provide?: (key: string, value: unknown) => void }) => {
    const lab = await startLab(options);
    const env = labEnvironment(lab);
    Object.assign(process.env, env);
    project?.provide?.('kmslab', env);
    return () => lab.stop();
  };
}

const JEST_KEY = Symbol.for('kmslab.testing.lab');

/**
 * A jest `globalSetup` (jest.config: `globalSetup: './kmslab-setup.mjs'`,
 * that file `export default jestGlobalSetup({ … })`), with
 * `globalTeardown` `export default jestGlobalTeardown()`: the lab's
 * environment (labEnvironment) is set before the workers start.
 */
export function jestGlobalSetup(options: LabOptions = {}) {
  return async () => {
    const lab = await startLab(options);
    Object.assign(process.env, labEnvironment(lab));
    (globalThis as Record<symbol, unknown>)[JEST_KEY] = lab;
  };
}

/** The jest `globalTeardown` that stops the lab `jestGlobalSetup` started. */
export function jestGlobalTeardown() {
  return async () => {
    const lab = (globalThis as Record<symbol, unknown>)[JEST_KEY] as Lab | undefined;
    delete (globalThis as Record<symbol, unknown>)[JEST_KEY];
    await lab?.stop();
  };
}
