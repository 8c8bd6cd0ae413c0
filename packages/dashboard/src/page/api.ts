import type { CountPoint, LabView as ServerLabView } from '@kmslab/dashboard';
import type { ClientView, RequestView } from '@kmslab/host';
import type { LabAttempt } from '@kmslab/lab';

export type { ClientView, CountPoint, LabAttempt, RequestView };

/** The lab as the server sends it, its attempts typed as the lab makes them. */
export type LabView = Omit<ServerLabView, 'attempts'> & { attempts: LabAttempt[] };

/** What the dashboard server sends (packages/dashboard/src/lab-sources.ts; docs/admin-api.md "Dashboard"). */
export interface FamilyStats {
  currentCount: number;
  totalRequests: number;
  failedRequests: number;
  requestsByStatus: Record<string, number>;
}

export interface HostStatus {
  hostId: string;
  time: string;
  software: string;
  kms: { port: number; addresses: Array<{ address: string; port: number }> };
  keyGroup: { id: string; name: string };
  licensePacks: Array<{ id: string; name: string }>;
  store: { kind: string; healthy: boolean; error?: string };
  families: Record<string, FamilyStats>;
  dnsPublishing: boolean;
  publishing?: { fqdn: string; domains: Array<{ domain: string; priority: number; weight: number }>; lastPublished: string | null; lastError: string | null; nextRefresh: string | null };
  replica: { pid: number; requestsServed: number; connections: number; realKmsClients: number };
}

export interface HostView {
  url: string;
  ok: boolean;
  error?: string;
  status?: HostStatus;
  clients?: { perFamily: number; families: Record<string, ClientView[]> };
  requests?: { capacity: number; requests: RequestView[] };
  unlocks?: Record<string, Array<{ threshold: number; reached: boolean; products: string[] }>>;
}

export interface Fault {
  id: string;
  rule: string;
  action: string;
  matched: number;
  applied: number;
}

export interface Zone {
  origin: string;
  serial: number;
  srv: Array<{ name: string; ttl: number; priority: number; weight: number; port: number; target: string }>;
}

export interface LoggedQuery {
  time: string;
  client: { address: string; port: number };
  transport: string;
  qname: string | null;
  qtype: string | null;
  rcode: string | null;
  answers: number;
  latencyMs: number;
  fault?: { id: string; action: string } | null;
}

export interface LabState {
  time: string;
  hosts: HostView[];
  dns: { url: string; ok: boolean; error?: string; zones?: Zone[]; faults?: Fault[] } | null;
  lab?: LabView;
  history?: CountPoint[];
  point?: CountPoint;
  queries?: LoggedQuery[];
  readOnly?: boolean;
}
