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
  #watchers: Array<{ pattern: RegExp; resolve: () => void }> = [];
  #accepted = 0;
  #acceptWatchers: Array<{ n: number; resolve: () => void }> = [];

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
    if (pattern.test(this.#seen)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nothing matching ${pattern} reached the proxy within ${timeoutMs} ms`)), timeoutMs);
      this.#watchers.push({ pattern, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  /** Resolves once `n` connections have come in since the proxy started (a client that keeps retrying shows here). */
  connections(n: number, timeoutMs = 10_000): Promise<void> {
    if (this.#accepted >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.#accepted} of ${n} connections reached the proxy within ${timeoutMs} ms`)), timeoutMs);
      this.#acceptWatchers.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  /** Sends on what was kept back, in order, and stops holding. */
  release(): void {
    const held = this.#held ?? [];
    this.#held = null;
    for (const { to, data } of held) if (!to.destroyed) to.write(data);
  }

  #accept(client: Socket, targetPort: number): void {
    this.#accepted++;
    this.#acceptWatchers = this.#acceptWatchers.filter((w) => (this.#accepted >= w.n ? (w.resolve(), false) : true));
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
      this.#watchers = this.#watchers.filter((w) => (w.pattern.test(this.#seen) ? (w.resolve(), false) : true));
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
