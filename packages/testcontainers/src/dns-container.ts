import { AbstractStartedContainer, GenericContainer, type StartedTestContainer } from 'testcontainers';
import { DnsAnswerWaitStrategy } from './dns-answer-wait.js';
import { KMSLAB_IMAGE } from './images.js';

/** `kmslab dns start` in a container: authoritative for `zone`, dynamic update with TSIG keys. */
export class KmsLabDnsContainer extends GenericContainer {
  #zone = 'lab.test';
  readonly #keys: string[] = [];

  constructor(image = KMSLAB_IMAGE) {
    super(image);
    // TCP only from the tests: testcontainers keeps one protocol per port number.
    // Containers on the network use UDP as usual.
    this.withExposedPorts('53/tcp');
  }

  withZone(zone: string): this {
    this.#zone = zone.replace(/\.$/, '');
    return this;
  }

  /** `NAME:ALG:SECRET[:GRANTS]`, as `kmslab dns start --tsig-key` takes it; repeatable. */
  withTsigKey(key: string): this {
    this.#keys.push(key);
    return this;
  }

  override async start(): Promise<StartedKmsLabDnsContainer> {
    this.withCommand(['dns', 'start', '--listen', '0.0.0.0', '--port', '53', '--zone', this.#zone, '--log-format', 'json', ...this.#keys.flatMap((k) => ['--tsig-key', k])]);
    this.withWaitStrategy(new DnsAnswerWaitStrategy(this.#zone));
    return new StartedKmsLabDnsContainer(await super.start(), this.#zone);
  }
}

export class StartedKmsLabDnsContainer extends AbstractStartedContainer {
  constructor(
    started: StartedTestContainer,
    readonly zone: string,
  ) {
    super(started);
  }

  /** Where the tests reach the DNS server (TCP). */
  get target(): { host: string; port: number } {
    return { host: this.getHost(), port: this.getMappedPort(53, 'tcp') };
  }
}
