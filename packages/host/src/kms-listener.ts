import { createServer, type Server, type Socket } from 'node:net';
import {
  FrameDecoder,
  KmsLabError,
  PROTOCOL_VERSION,
  decodeFrame,
  encodeActivationResponse,
  encodeError,
  encodeHelloResponse,
  encodeMakResponse,
  listenFailed,
  toKmsLabError,
} from '@kmslab/core';
import { TcpConnections } from '@kmslab/server-kit';
import type { ListenAddress } from '@kmslab/core';
import type { ActivationService } from './activation-service.js';

export type { ListenAddress } from '@kmslab/core';
import type { ResolvedHostOptions } from './host-options.js';
import type { HostMetrics } from './metrics.js';
import { SOFTWARE } from './software.js';

/** Frames answered in one turn of the event loop before other connections get theirs. */
const FRAMES_PER_TURN = 256;


/**
 * The KMS port: splits each connection into frames, answers them (pipelined,
 * matched by request id), and turns bad input into an error frame and a
 * close, never into a crash (docs/protocol.md "Errors").
 */
export class KmsListener {
  readonly #o: ResolvedHostOptions;
  readonly #service: ActivationService;
  readonly #metrics: HostMetrics;
  readonly #servers: Server[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #connections: TcpConnections;
  #inFlight = 0;
  #helloTemplate: Buffer | null = null;
  #draining = false;
  #drained: (() => void) | null = null;

  constructor(options: ResolvedHostOptions, service: ActivationService, metrics: HostMetrics) {
    this.#o = options;
    this.#service = service;
    this.#metrics = metrics;
    metrics.watchInFlight(() => this.#inFlight);
    // docs/protocol.md "Limits": idle 60 s, half a frame at most that long from its first byte.
    this.#connections = new TcpConnections({
      maxConnections: options.maxConnections,
      idleTimeoutMs: options.idleTimeoutMs,
      messageTimeoutMs: options.idleTimeoutMs,
      onEvict: () => metrics.connectionClosedForRoom(),
      onRefuse: () => metrics.connectionRefused(),
    });
  }

  async listen(): Promise<ListenAddress[]> {
    let port = this.#o.port;
    for (const address of this.#o.listen) {
      const bound = await this.#bind(address, port).catch(async (err: KmsLabError) => {
        // Dual-stack default on a machine without IPv6: listen on IPv4 alone.
        const cause = (err.cause as NodeJS.ErrnoException | undefined)?.code;
        if (address === '::' && this.#o.listen.length === 1 && (cause === 'EAFNOSUPPORT' || cause === 'EADDRNOTAVAIL')) {
          return this.#bind('0.0.0.0', port);
        }
        throw err;
      });
      port = bound.port; // port 0: every address shares the port the first one got
    }
    return this.addresses();
  }

  addresses(): ListenAddress[] {
    return this.#servers.map((s) => s.address()).filter((a) => a !== null && typeof a === 'object') as ListenAddress[];
  }

  get connections(): number {
    return this.#sockets.size;
  }

  /** Stops accepting, lets in-flight requests finish (bounded), then closes every connection. */
  async close(): Promise<void> {
    this.#draining = true;
    const closed = Promise.all(this.#servers.map((s) => new Promise((r) => s.close(r))));
    if (this.#inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#o.drainTimeoutMs);
        this.#drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const socket of this.#sockets) socket.end();
    const deadline = setTimeout(() => {
      for (const socket of this.#sockets) socket.destroy();
    }, 1000);
    await closed;
    clearTimeout(deadline);
    this.#connections.close();
  }

  #bind(address: string, port: number): Promise<{ port: number }> {
    const server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(listenFailed('KMS port', address, port, err)));
      // A deep accept queue (the kernel caps it at somaxconn): a burst of connects is not dropped to a 1 s SYN retry.
      server.listen({ host: address, port, ipv6Only: false, backlog: 4096 }, () => {
        server.removeAllListeners('error');
        server.on('error', (err) => this.#o.logger?.error({ err }, 'KMS listener error'));
        this.#servers.push(server);
        resolve({ port: (server.address() as { port: number }).port });
      });
    });
  }

  #accept(socket: Socket): void {
    socket.on('error', () => {}); // a reset by the peer is not the host's problem
    if (!this.#connections.admit(socket)) return;
    const decoder = new FrameDecoder();
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    this.#sockets.add(socket);
    this.#metrics.connections.inc();
    socket.on('close', () => {
      this.#sockets.delete(socket);
      this.#metrics.connections.dec();
    });
    socket.on('data', (chunk: Buffer) => this.#onData(socket, decoder, peer, chunk));
  }

  /**
   * One chunk in: its whole frames answered in order. Answers ready at once
   * (hello, bad fields) leave in one write: a chunk of thousands of pipelined
   * frames costs one buffer, not thousands.
   */
  #onData(socket: Socket, decoder: FrameDecoder, peer: string, chunk: Buffer): void {
    let completed: number;
    try {
      completed = decoder.write(chunk);
    } catch (err) {
      return this.#reject(socket, peer, toKmsLabError(err, 'KMSLAB_MALFORMED_FRAME'), 0);
    }
    this.#connections.received(socket, completed, decoder.buffered > 0);
    this.#answerFrames(socket, peer, decoder, completed, true);
  }

  /**
   * Works through a chunk's frames a slice per turn of the event loop, not
   * reading more meanwhile (order is kept): one connection's 5,000 pipelined
   * frames cannot keep every other client waiting. Each frame is taken from
   * the decoder as it is answered, so a flood's frames die young.
   */
  #answerFrames(socket: Socket, peer: string, decoder: FrameDecoder, remaining: number, first: boolean): void {
    const slice = Math.min(remaining, FRAMES_PER_TURN);
    const ready: Buffer[] = [];
    const flush = () => {
      if (ready.length > 0) this.#write(socket, ready.length === 1 ? ready[0]! : Buffer.concat(ready));
    };
    for (let i = 0; i < slice; i++) {
      const raw = decoder.next()!;
      let frame;
      try {
        frame = decodeFrame(raw);
      } catch (err) {
        const e = toKmsLabError(err, 'KMSLAB_MALFORMED_FRAME');
        const requestId = (e.detail?.requestId as number | undefined) ?? 0;
        // A bad field in a whole frame: the stream is still in step, so answer that request alone.
        if (e.code === 'KMSLAB_MALFORMED_REQUEST') {
          this.#protocolError(peer, e);
          ready.push(encodeError(requestId, { code: e.code, message: e.message }));
          continue;
        }
        flush();
        return this.#reject(socket, peer, e, requestId);
      }
      if (this.#draining) {
        ready.push(encodeError(frame.requestId, { code: 'KMSLAB_SHUTTING_DOWN', message: 'The KMS host is shutting down; try another host' }));
      } else if (frame.type === 'helloRequest') {
        ready.push(this.#hello(frame.requestId));
      } else if (frame.type === 'activationRequest') {
        this.#activate(socket, peer, frame.requestId, frame.body);
      } else if (frame.type === 'makRequest') {
        this.#answer(socket, frame.requestId, this.#service.handleMak(frame.body, peer).then((r) => encodeMakResponse(frame.requestId, r)));
      } else {
        flush();
        return this.#reject(socket, peer, new KmsLabError('KMSLAB_MALFORMED_FRAME', `A host does not accept ${frame.type} frames`), frame.requestId);
      }
    }
    flush();
    if (slice === remaining) {
      if (!first) this.#connections.release(socket);
      return;
    }
    if (first) this.#connections.hold(socket);
    setImmediate(() => {
      if (!socket.destroyed) this.#answerFrames(socket, peer, decoder, remaining - slice, false);
    });
  }

  /** The hello answer differs only in its request id: encoded once, copied with the id patched in. */
  #hello(requestId: number): Buffer {
    this.#helloTemplate ??= encodeHelloResponse(0, { protocolVersion: PROTOCOL_VERSION, software: SOFTWARE, hostId: this.#o.hostId });
    const answer = Buffer.from(this.#helloTemplate);
    answer.writeUInt32BE(requestId >>> 0, 8);
    return answer;
  }

  #activate(socket: Socket, peer: string, requestId: number, body: Parameters<ActivationService['handle']>[0]): void {
    this.#answer(socket, requestId, this.#service.handle(body, peer).then((response) => encodeActivationResponse(requestId, response)));
  }

  /** Writes the answer when it is ready, or an error frame; counts it as in flight until then (drain waits). */
  #answer(socket: Socket, requestId: number, answer: Promise<Buffer>): void {
    this.#connections.started(socket);
    this.#inFlight++;
    answer.then(
      (bytes) => this.#reply(socket, bytes),
      (err) => {
        const e = toKmsLabError(err, 'KMSLAB_HOST_UNAVAILABLE');
        this.#reply(socket, encodeError(requestId, { code: e.code, message: e.message }));
      },
    );
  }

  #reply(socket: Socket, bytes: Buffer): void {
    this.#inFlight--;
    if (socket.writable) socket.write(bytes);
    this.#connections.wrote(socket, true);
    if (this.#inFlight === 0) this.#drained?.();
  }

  /** An answer that ends no request in flight; the connection's backpressure sees it. */
  #write(socket: Socket, bytes: Buffer): void {
    socket.write(bytes);
    this.#connections.wrote(socket);
  }

  /** Bad input: one error frame, then close (docs/protocol.md "Errors"); a real KMS client is only logged and closed. */
  #reject(socket: Socket, peer: string, err: KmsLabError, requestId: number): void {
    socket.removeAllListeners('data');
    if (err.code === 'KMSLAB_FOREIGN_PROTOCOL') {
      this.#metrics.foreignClient();
      this.#o.logger?.warn(
        { event: 'real-kms-client', peer },
        `a real KMS client (a DCE/RPC bind) connected from ${peer}; kmslab does not speak Microsoft's activation protocol`,
      );
      socket.end();
      return;
    }
    this.#protocolError(peer, err);
    socket.end(encodeError(requestId, { code: err.code, message: err.message }));
  }

  #protocolError(peer: string, err: KmsLabError): void {
    this.#metrics.protocolError(err.code);
    this.#o.logger?.info({ event: 'protocol-error', peer, errorCode: err.code }, err.message);
  }
}
