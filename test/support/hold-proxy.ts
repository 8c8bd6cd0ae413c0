import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback a test can pause: while held, what clients send is
 * kept back (not lost) and looked at, so a test knows the moment a command
 * reached the server's door — a signal, where a sleep would only guess — and
 * lets it through with release(). It counts the connections it took, so a
 * test sees a client retrying while the server behind is down.
 */
export class HoldProxy implements AsyncDisposable {
  readonly #server: Server;
  readonly #pairs = new Set<[Socket, Socket]>();
  #held: Array<{ to: Socket; data: Buffer }> | null = null;
  #seen = '';
  #accepted = 0;
  /** Waits for a condition on what the proxy saw; looked at again after every connection and every held chunk. */
  #waiters: Array<{ met: () => boolean; resolve: () => void }> = [];

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(targetPort: number): Promise<HoldProxy> {
    let self: HoldProxy | null = null;
    const server = createServer((client) => self!.#accept(client, targetPort));
    self = new HoldProxy(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  /** From now on, keep back what clients send. */
  hold(): void {
    this.#held ??= [];
    this.#seen = '';
  }

  /** Resolves once bytes matching `pattern` arrive while held (within `timeoutMs`). */
  arrived(pattern: RegExp, timeoutMs = 10_000): Promise<void> {
    return this.#until(() => pattern.test(this.#seen), timeoutMs, () => `nothing matching ${pattern} reached the proxy within ${timeoutMs} ms`);
  }

  /** Resolves once `n` connections have come in since the proxy started (a client that keeps retrying shows here). */
  connections(n: number, timeoutMs = 10_000): Promise<void> {
    return this.#until(() => this.#accepted >= n, timeoutMs, () => `${this.#accepted} of ${n} connections reached the proxy within ${timeoutMs} ms`);
  }

  #until(met: () => boolean, timeoutMs: number, why: () => string): Promise<void> {
    if (met()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(why())), timeoutMs);
      this.#waiters.push({ met, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  #check(): void {
    this.#waiters = this.#waiters.filter((w) => (w.met() ? (w.resolve(), false) : true));
  }

  /** Sends on what was kept back, in order, and stops holding. */
  release(): void {
    const held = this.#held ?? [];
    this.#held = null;
    for (const { to, data } of held) if (!to.destroyed) to.write(data);
  }

  #accept(client: Socket, targetPort: number): void {
    this.#accepted++;
    this.#check();
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    this.#pairs.add(pair);
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.#pairs.delete(pair);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    upstream.on('data', (d: Buffer) => client.write(d));
    client.on('data', (d: Buffer) => {
      if (!this.#held) return void upstream.write(d);
      this.#held.push({ to: upstream, data: d });
      this.#seen += d.toString('latin1');
      this.#check();
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const [a, b] of this.#pairs) {
      a.destroy();
      b.destroy();
    }
    await new Promise((r) => this.#server.close(r));
  }
}
