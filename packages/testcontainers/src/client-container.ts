import { AbstractStartedContainer, GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import type { ActivationResult } from '@kmslab/core';
import { KMSLAB_IMAGE } from './images.js';

/** What `kmslab client activate --json` prints: the one activation result type (@kmslab/core). */
export type ClientActivation = ActivationResult;

/**
 * A client machine: an idle kmslab container whose `activate` runs
 * `kmslab client activate` inside it, so discovery goes through the
 * container's network (SRV from the DNS server only) and the client state
 * (cached host, license) stays between calls, as on a real machine.
 */
export class KmsLabClientContainer extends GenericContainer {
  constructor(
    private readonly dns: string,
    private readonly domain: string,
    image = KMSLAB_IMAGE,
  ) {
    super(image);
    // An idle machine, no kmslab server in it: the image's HEALTHCHECK (a host or a DNS server) does not
    // apply, and testcontainers 12 would wait for it by default. A shell that leaves on SIGTERM (a bare
    // `sleep` as PID 1 ignores it, so every stop waited for Docker's kill).
    this.withEntrypoint(['sh', '-c', 'trap "exit 0" TERM; sleep infinity & wait']).withCommand([]).withWaitStrategy(Wait.forListeningPorts());
  }

  override async start(): Promise<StartedKmsLabClientContainer> {
    return new StartedKmsLabClientContainer(await super.start(), this.dns, this.domain);
  }
}

/** A client machine on the lab network: `activate()` runs `kmslab client activate` inside it. */
export class StartedKmsLabClientContainer extends AbstractStartedContainer {
  constructor(
    started: StartedTestContainer,
    private readonly dns: string,
    private readonly domain: string,
  ) {
    super(started);
  }

  async activate(product: string, extra: string[] = []): Promise<ClientActivation> {
    const r = await this.exec(['kmslab', 'client', 'activate', '--product', product, '--dns', this.dns, '--domain', this.domain, '--json', ...extra]);
    try {
      return JSON.parse(r.stdout) as ClientActivation;
    } catch {
      throw new Error(`kmslab client activate in the client container printed no JSON (exit ${r.exitCode}): ${r.output}`);
    }
  }
}
