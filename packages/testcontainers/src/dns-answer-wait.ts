import type { BoundPorts, WaitStrategy } from 'testcontainers';
import { getContainerRuntimeClient } from 'testcontainers';
import { RCODE, TYPE, query } from '@kmslab/dns-wire';
import { waitFor } from '@kmslab/core';

/** Ready when the DNS server answers the zone's SOA (over TCP, through the mapped port) with NOERROR. */
export class DnsAnswerWaitStrategy implements WaitStrategy {
  #timeoutMs = 30_000;
  #timeoutSet = false;

  constructor(private readonly zone: string) {}

  async waitUntilReady(_container: unknown, boundPorts: BoundPorts): Promise<void> {
    const host = (await getContainerRuntimeClient()).info.containerRuntime.host;
    const port = boundPorts.getBinding(53, 'tcp');
    let last = 'no answer';
    await waitFor(
      async () => {
        try {
          const { answer } = await query({ host, port }, this.zone, TYPE.SOA, { transport: 'tcp' });
          if (answer.rcode === RCODE.NOERROR && answer.answers.some((rr) => rr.type === TYPE.SOA)) return true;
          last = `rcode ${answer.rcode}`;
        } catch (err) {
          last = (err as Error).message;
        }
        return false;
      },
      { timeoutMs: this.#timeoutMs, everyMs: 100, timedOut: () => new Error(`kmslab DNS did not answer ${this.zone} SOA within ${this.#timeoutMs} ms (${last})`) },
    );
  }

  withStartupTimeout(ms: number): this {
    this.#timeoutMs = ms;
    this.#timeoutSet = true;
    return this;
  }

  isStartupTimeoutSet(): boolean {
    return this.#timeoutSet;
  }

  getStartupTimeout(): number {
    return this.#timeoutMs;
  }
}
