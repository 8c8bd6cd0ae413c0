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
import type { ActivationService } from './activation-service.js';
import type { ResolvedHostOptions } from './host-options.js';
import type { HostMetrics } from './metrics.js';
import { SOFTWARE } from './software.js';

export interface ListenAddress {
  address: string;
  port: number;
  family: string;
}

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
  readonly #sockets = new Map<Socket, { inFlight: number }>();
  #inFlight = 0;
  #draining = false;
  #drained: (() => void) | null = null;

  constructor(options: ResolvedHostOptions, service: ActivationService, metrics: HostMetrics) {
    this.#o = options;
    this.#service = service;
    this.#metrics = metrics;
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
    for (const socket of this.#sockets.keys()) socket.end();
    const deadline = setTimeout(() => {
      for (const socket of this.#sockets.keys()) socket.destroy();
    }, 1000);
    await closed;
    clearTimeout(deadline);
  }

  #bind(address: string, port: number): Promise<{ port: number }> {
    const server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
    server.maxConnections = this.#o.maxConnections;
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(listenFailed('KMS port', address, port, err)));
      server.listen({ host: address, port, ipv6Only: false }, () => {
        server.removeAllListeners('error');
        server.on('error', (err) => this.#o.logger?.error({ err }, 'KMS listener error'));
        this.#servers.push(server);
        resolve({ port: (server.address() as { port: number }).port });
      });
    });
  }

  #accept(socket: Socket): void {
    const state = { inFlight: 0 };
    const decoder = new FrameDecoder();
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    this.#sockets.set(socket, state);
    this.#metrics.connections.inc();
    socket.setTimeout(this.#o.idleTimeoutMs, () => {
      if (state.inFlight === 0) socket.destroy();
    });
    socket.on('error', () => {}); // a reset by the peer is not the host's problem
    socket.on('close', () => {
      this.#sockets.delete(socket);
      this.#metrics.connections.dec();
    });
    socket.on('data', (chunk) => {
      let frames: Buffer[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        return this.#reject(socket, peer, toKmsLabError(err, 'KMSLAB_MALFORMED_FRAME'), 0);
      }
      for (const raw of frames) {
        let frame;
        try {
          frame = decodeFrame(raw);
        } catch (err) {
          const e = toKmsLabError(err, 'KMSLAB_MALFORMED_FRAME');
          const requestId = (e.detail?.requestId as number | undefined) ?? 0;
          // A bad field in a whole frame: the stream is still in step, so answer that request alone.
          if (e.code === 'KMSLAB_MALFORMED_REQUEST') {
            this.#protocolError(peer, e);
            socket.write(encodeError(requestId, { code: e.code, message: e.message }));
            continue;
          }
          return this.#reject(socket, peer, e, requestId);
        }
        if (this.#draining) {
          socket.write(encodeError(frame.requestId, { code: 'KMSLAB_SHUTTING_DOWN', message: 'The KMS host is shutting down; try another host' }));
          continue;
        }
        if (frame.type === 'helloRequest') {
          socket.write(encodeHelloResponse(frame.requestId, { protocolVersion: PROTOCOL_VERSION, software: SOFTWARE, hostId: this.#o.hostId }));
        } else if (frame.type === 'activationRequest') {
          this.#activate(socket, state, peer, frame.requestId, frame.body);
        } else if (frame.type === 'makRequest') {
          this.#answer(socket, state, frame.requestId, this.#service.handleMak(frame.body, peer).then((r) => encodeMakResponse(frame.requestId, r)));
        } else {
          return this.#reject(socket, peer, new KmsLabError('KMSLAB_MALFORMED_FRAME', `A host does not accept ${frame.type} frames`), frame.requestId);
        }
      }
    });
  }

  #activate(socket: Socket, state: { inFlight: number }, peer: string, requestId: number, body: Parameters<ActivationService['handle']>[0]): void {
    this.#answer(socket, state, requestId, this.#service.handle(body, peer).then((response) => encodeActivationResponse(requestId, response)));
  }

  /** Writes the answer when it is ready, or an error frame; counts it as in flight until then (drain waits). */
  #answer(socket: Socket, state: { inFlight: number }, requestId: number, answer: Promise<Buffer>): void {
    state.inFlight++;
    this.#inFlight++;
    answer.then(
      (bytes) => this.#reply(socket, state, bytes),
      (err) => {
        const e = toKmsLabError(err, 'KMSLAB_HOST_UNAVAILABLE');
        this.#reply(socket, state, encodeError(requestId, { code: e.code, message: e.message }));
      },
    );
  }

  #reply(socket: Socket, state: { inFlight: number }, bytes: Buffer): void {
    state.inFlight--;
    this.#inFlight--;
    if (socket.writable) socket.write(bytes);
    if (this.#inFlight === 0) this.#drained?.();
  }

  /** Bad input: one error frame, then close (docs/protocol.md "Errors"); a real KMS client is only logged and closed. */
  #reject(socket: Socket, peer: string, err: KmsLabError, requestId: number): void {
    socket.removeAllListeners('data');
    if (err.code === 'KMSLAB_FOREIGN_PROTOCOL') {
      this.#metrics.foreignClient();
      this.#o.logger?.warn(
        { event: 'real-kms-client', peer },
        `a real KMS client at ${peer} discovered this host through DNS; kmslab does not speak Microsoft's activation protocol`,
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
