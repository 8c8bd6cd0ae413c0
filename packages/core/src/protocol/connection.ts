import { connect, type Socket } from 'node:net';
import { KmsLabError, toKmsLabError } from '../errors.js';
import { encodeActivationRequest, encodeHelloRequest, encodeMakRequest, decodeFrame } from './codec.js';
import { FrameDecoder } from './frame-decoder.js';
import type { ActivationRequest, ActivationResponse, Frame, HelloResponse, MakRequest, MakResponse } from './messages.js';

/** Where to connect and how long to wait. */
export interface KmsConnectionOptions {
  host: string;
  port: number;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

interface Pending {
  resolve: (frame: Frame) => void;
  reject: (err: KmsLabError) => void;
  timer: NodeJS.Timeout;
}

/**
 * One TCP connection to a kmslab host. Requests are pipelined and matched to
 * answers by request id (docs/protocol.md "Pipelining"). Every failure is a
 * KmsLabError: the host's error frame keeps its code; a refused, closed or
 * timed-out connection is KMSLAB_CONNECTION_FAILED / KMSLAB_TIMEOUT.
 */
export class KmsConnection {
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder();
  readonly #pending = new Map<number, Pending>();
  readonly #requestTimeoutMs: number;
  #nextId = 1;
  #closedWith: KmsLabError | null = null;

  private constructor(socket: Socket, requestTimeoutMs: number) {
    this.#socket = socket;
    this.#requestTimeoutMs = requestTimeoutMs;
    socket.on('data', (chunk) => this.#onData(chunk));
    socket.on('error', (err) => this.#fail(toKmsLabError(err)));
    socket.on('close', () => this.#fail(new KmsLabError('KMSLAB_CONNECTION_FAILED', 'The KMS host closed the connection')));
  }

  static connect(options: KmsConnectionOptions): Promise<KmsConnection> {
    const { host, port, connectTimeoutMs = 3000, requestTimeoutMs = 10_000 } = options;
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new KmsLabError('KMSLAB_TIMEOUT', `Connecting to ${host}:${port} timed out after ${connectTimeoutMs} ms`));
      }, connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new KmsConnection(socket, requestTimeoutMs));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new KmsLabError('KMSLAB_CONNECTION_FAILED', `Cannot connect to ${host}:${port}: ${err.message}`, { cause: err }));
      });
    });
  }

  get remote(): string {
    return `${this.#socket.remoteAddress}:${this.#socket.remotePort}`;
  }

  async activate(request: ActivationRequest): Promise<ActivationResponse> {
    const frame = await this.#send((id) => encodeActivationRequest(id, request));
    if (frame.type !== 'activationResponse') throw unexpected(frame);
    return frame.body;
  }

  async activateMak(request: MakRequest): Promise<MakResponse> {
    const frame = await this.#send((id) => encodeMakRequest(id, request));
    if (frame.type !== 'makResponse') throw unexpected(frame);
    return frame.body;
  }

  async hello(): Promise<HelloResponse> {
    const frame = await this.#send((id) => encodeHelloRequest(id));
    if (frame.type !== 'helloResponse') throw unexpected(frame);
    return frame.body;
  }

  close(): void {
    this.#socket.end();
    this.#socket.destroySoon();
  }

  #send(encode: (id: number) => Buffer): Promise<Frame> {
    if (this.#closedWith) return Promise.reject(this.#closedWith);
    const id = this.#nextId;
    this.#nextId = (this.#nextId % 0xffff_ffff) + 1;
    const bytes = encode(id);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new KmsLabError('KMSLAB_TIMEOUT', `The KMS host did not answer within ${this.#requestTimeoutMs} ms`));
      }, this.#requestTimeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#socket.write(bytes);
    });
  }

  #onData(chunk: Buffer): void {
    try {
      for (const raw of this.#decoder.push(chunk)) {
        const frame = decodeFrame(raw);
        const pending = this.#pending.get(frame.requestId);
        if (frame.type === 'error' && (frame.requestId === 0 || !pending)) {
          // An error not tied to one request ends the connection for all of them.
          this.#fail(new KmsLabError(frame.body.code, frame.body.message));
          continue;
        }
        if (!pending) continue;
        this.#pending.delete(frame.requestId);
        clearTimeout(pending.timer);
        if (frame.type === 'error') pending.reject(new KmsLabError(frame.body.code, frame.body.message));
        else pending.resolve(frame);
      }
    } catch (err) {
      this.#fail(toKmsLabError(err, 'KMSLAB_MALFORMED_FRAME'));
      this.#socket.destroy();
    }
  }

  #fail(err: KmsLabError): void {
    this.#closedWith ??= err;
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.#pending.delete(id);
    }
  }
}

function unexpected(frame: Frame): KmsLabError {
  return new KmsLabError('KMSLAB_MALFORMED_FRAME', `Unexpected ${frame.type} frame in answer`);
}
