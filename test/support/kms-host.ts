import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KmsConnection, type ActivationRequest, type ActivationResponse, type Clock } from '@kmslab/core';
import { startHostService, type HostOptions, type KmsHost, type StoreConfig } from '@kmslab/host';
import { randomUUID } from 'node:crypto';

export type StoreKind = 'memory' | 'redis';

/** A temp folder removed on dispose. */
export function tempDir(prefix = 'kmslab-'): { path: string } & AsyncDisposable {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, async [Symbol.asyncDispose]() { rmSync(path, { recursive: true, force: true }); } };
}

/** An in-process host on a free loopback port with the given store; admin on a free port too. */
export async function startHost(
  store: { kind: 'memory'; dataDir?: string } | { kind: 'redis'; url: string },
  options: Partial<Omit<HostOptions, 'store'>> = {},
): Promise<KmsHost> {
  const hostId = options.hostId ?? 'test-host';
  // As `kmslab host start` runs a host (one service entry), in this process.
  const config: StoreConfig = store.kind === 'memory' ? { kind: 'memory', dataDir: store.dataDir } : { kind: 'redis', url: store.url, hostId };
  return (await startHostService({ listen: ['127.0.0.1'], port: 0, admin: '127.0.0.1:0', ...options, hostId, store: config })).host;
}

/** A test client: one connection, requests built from a product id and a CMID. */
export class TestClient implements AsyncDisposable {
  private constructor(
    readonly conn: KmsConnection,
    private readonly clock: Clock | undefined,
  ) {}

  static async connect(port: number, clock?: Clock, host = '127.0.0.1'): Promise<TestClient> {
    return new TestClient(await KmsConnection.connect({ host, port }), clock);
  }

  activate(productId: string, cmid: string = randomUUID(), extra: Partial<ActivationRequest> = {}): Promise<ActivationResponse> {
    return this.conn.activate({
      cmid,
      productId,
      fqdn: `${cmid.slice(0, 8)}.lab.test`,
      clientTime: this.clock?.now() ?? Date.now(),
      kind: 'activation',
      licenseStatus: 'initial-grace',
      ...extra,
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.conn.close();
  }
}
