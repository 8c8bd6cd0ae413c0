import { KmsLabError } from '@kmslab/core';
import { MemoryStore } from './memory-store.js';
import { RedisStore, type Durability, type RedisTopology } from './redis-store.js';
import type { ActivationStore } from './store.js';

/** A store to open: memory (with a data dir) or Redis. */
export type StoreConfig =
  | { kind: 'memory'; dataDir?: string; onWarning?: (message: string) => void }
  | { kind: 'redis'; url?: string; topology?: RedisTopology; hostId: string; durability?: Durability; commandTimeoutMs?: number; retryBudgetMs?: number; startupWaitMs?: number };

/** Opens the store a host was configured with. */
export function openStore(config: StoreConfig): Promise<ActivationStore> {
  switch (config.kind) {
    case 'memory':
      return MemoryStore.open({ dataDir: config.dataDir, onWarning: config.onWarning });
    case 'redis':
      return RedisStore.open(config);
    default:
      throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `Unknown store "${(config as { kind: string }).kind}"; use memory or redis`);
  }
}
