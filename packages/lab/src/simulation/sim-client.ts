import type { ClientState } from '@kmslab/client';

/** One simulated machine: its client state, when it joins and leaves, and how far its clock runs from the lab's. */
export interface SimClient {
  name: string;
  /** The machine's clock runs this far from the lab's (clock-jump events). */
  skewMs: number;
  productId: string;
  state: ClientState;
  joinAt: number;
  /** When the machine leaves the network (no more contacts). */
  leaveAt: number | null;
  /** Finds its host through the lab DNS instead of a manual host. */
  dns: boolean;
  /** Which of the lab's DNS servers it asks: 0 the lab DNS, 1… its secondaries (`useDns(zone, { secondaries })`). */
  server?: number;
}

/** One line of the narrated timeline. */
export interface TimelineEntry {
  /** Virtual minutes since the start. */
  minute: number;
  client: string;
  product: string;
  count: number | null;
  threshold: number;
  licensed: boolean;
  /** How the client was licensed, when it was: by the KMS count or by its MAK. */
  via: 'kms' | 'mak' | null;
  errorCode: string | null;
  /** Why the hosts tried did not answer (e.g. KMSLAB_HOST_UNAVAILABLE behind 0xC004F074), if they did not. */
  reason: string | null;
  /** The host that answered (HOST:PORT as the client names it), if any. */
  host: string | null;
  /** Lab time the contact took: about 2 s for each dead host tried first (a Windows client's SYN retries). */
  spentMs: number;
}
