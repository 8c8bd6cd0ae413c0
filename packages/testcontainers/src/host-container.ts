import { randomBytes } from 'node:crypto';
import { AbstractStartedContainer, GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { KMSLAB_IMAGE } from './images.js';
import { dockerHostNames, publishOnLoopbackWhenLocal } from './loopback-ports.js';

/** How a host container publishes itself. */
export interface PublishOptions {
  /** The DNS server that takes the updates, as the container reaches it (e.g. the DNS container's network address). */
  dns: string;
  /** `NAME:ALG:SECRET`. */
  tsigKey: string;
  /** The host's name, the SRV target, e.g. kms1.lab.test. */
  fqdn: string;
  /** `DOMAIN[,PRIORITY,WEIGHT]`, repeatable (default: the domain of fqdn). */
  domains?: string[];
}

/**
 * `kmslab host start` in a container: KMS on 1688, admin on 9688; memory
 * store, or Redis. The admin listener is reachable beyond the container's
 * loopback, so it gets a token (random unless `withAdminToken`), passed as
 * KMSLAB_ADMIN_TOKEN so the image's HEALTHCHECK can use it too. With a local
 * Docker daemon the ports are published on 127.0.0.1 only.
 */
export class KmsLabHostContainer extends GenericContainer {
  #args: string[] = [];
  /** Passed as KMSLAB_TSIG_KEY, never as a flag: a container's command line is in the Docker host's `ps`. */
  #tsigKey: string | null = null;
  #adminToken = randomBytes(24).toString('base64url');

  constructor(image = KMSLAB_IMAGE) {
    super(image);
    this.withExposedPorts(1688, 9688);
  }

  withHostId(id: string): this {
    this.#args.push('--host-id', id);
    return this;
  }

  withKeyGroup(id: string): this {
    this.#args.push('--key-group', id);
    return this;
  }

  withLicensePack(id: string): this {
    this.#args.push('--license-pack', id);
    return this;
  }

  /**
   * Counts in Redis (the URL as the container reaches it); the default is the
   * embedded memory store. The host keeps trying for 30 s, so it can start
   * beside a Redis container that is still starting.
   */
  withRedis(url: string): this {
    this.#args.push('--store', 'redis', '--redis-url', url, '--redis-wait', '30s');
    return this;
  }

  /** Registers the host in DNS (RFC 2136 + TSIG) with the container's own address. */
  withPublish(p: PublishOptions): this {
    this.#tsigKey = p.tsigKey;
    this.#args.push('--publish', '--dns', p.dns, '--fqdn', p.fqdn, ...(p.domains ?? []).flatMap((d) => ['--publish-domain', d]));
    return this;
  }

  /** The admin listener's bearer token (at least 16 characters). */
  withAdminToken(token: string): this {
    this.#adminToken = token;
    return this;
  }

  /** More `kmslab host start` flags. */
  withArgs(...args: string[]): this {
    this.#args.push(...args);
    return this;
  }

  override async start(): Promise<StartedKmsLabHostContainer> {
    this.withCommand(['host', 'start', '--listen', '0.0.0.0', '--port', '1688', '--admin', '0.0.0.0:9688', '--log-format', 'json', ...(await dockerHostNames()), ...this.#args]);
    this.withEnvironment({ KMSLAB_ADMIN_TOKEN: this.#adminToken, ...(this.#tsigKey && { KMSLAB_TSIG_KEY: this.#tsigKey }) });
    // Asked every 100 ms (testcontainers' default read timeout, 1 s, is also its polling interval: up to a second lost per host).
    this.withWaitStrategy(Wait.forHttp('/healthz', 9688).withHeaders({ Authorization: `Bearer ${this.#adminToken}` }).forStatusCode(200).withReadTimeout(100));
    await publishOnLoopbackWhenLocal(this.hostConfig);
    return new StartedKmsLabHostContainer(await super.start(), this.#adminToken);
  }
}

/** A running host container: its KMS port, admin URL and token. */
export class StartedKmsLabHostContainer extends AbstractStartedContainer {
  /** Send as `Authorization: Bearer …` to the admin listener (`adminHeaders` has it ready). */
  readonly adminToken: string;

  constructor(started: StartedTestContainer, adminToken: string) {
    super(started);
    this.adminToken = adminToken;
  }

  /** Headers for fetch() against `adminUrl`. */
  get adminHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.adminToken}` };
  }

  /** Where the tests reach the KMS port. */
  get kms(): { host: string; port: number } {
    return { host: this.getHost(), port: this.getMappedPort(1688) };
  }

  get adminUrl(): string {
    return `http://${this.getHost()}:${this.getMappedPort(9688)}`;
  }
}
