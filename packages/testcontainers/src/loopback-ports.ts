import { isIP } from 'node:net';
import { GenericContainer, getContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';

/** The part of a container's HostConfig that says where Docker publishes its ports. */
interface PortBindingsConfig {
  PortBindings?: Record<string, Array<{ HostIp?: string; HostPort?: string }>>;
}

const isIpv4Loopback = (address: string) => isIP(address) === 4 && address.startsWith('127.');
const isLoopback = (address: string) => address === '::1' || isIpv4Loopback(address);

/**
 * testcontainers publishes exposed ports on every address of the Docker host,
 * so a lab's password-less Redis and its admin listeners would be reachable
 * from the network the machine is on. When the tests reach the daemon's ports
 * through loopback (a local daemon, `TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1`),
 * the ports are published on 127.0.0.1 alone. A remote daemon, or tests in a
 * container that reach the daemon's host by its bridge address, keep
 * testcontainers' default, since loopback would be out of their reach.
 */
export async function publishOnLoopbackWhenLocal(hostConfig: PortBindingsConfig): Promise<void> {
  const { hostIps } = (await getContainerRuntimeClient()).info.containerRuntime;
  // testcontainers maps ports through the host's addresses in order; an IPv4 one has to be among them.
  if (!hostIps.every((ip) => isLoopback(ip.address)) || !hostIps.some((ip) => isIpv4Loopback(ip.address))) return;
  for (const bindings of Object.values(hostConfig.PortBindings ?? {})) {
    for (const binding of bindings) binding.HostIp ??= '127.0.0.1';
  }
}

/** A plain container (the lab's Redis) whose ports follow the rule above. */
export class LoopbackPublishedContainer extends GenericContainer {
  override async start(): Promise<StartedTestContainer> {
    await publishOnLoopbackWhenLocal(this.hostConfig);
    return super.start();
  }
}

/**
 * `--admin-allowed-host` for the name the tests reach the Docker host by
 * (a remote daemon's `docker-host.example`): an admin listener answers only
 * requests addressed to an IP address, localhost or a name it was given
 * (docs/admin-api.md "Who may ask").
 */
export async function dockerHostNames(): Promise<string[]> {
  const { host } = (await getContainerRuntimeClient()).info.containerRuntime;
  return isIP(host) === 0 && host !== 'localhost' ? ['--admin-allowed-host', host] : [];
}
