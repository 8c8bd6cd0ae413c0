import type { ClientView, FamilyStats, FaultView as Fault, HostStatus, KmsEvent, LoggedQuery, RequestView, ZoneView as Zone } from '@kmslab/core';
import type { CountPoint, DashboardState, HostView, LabView as ServerLabView } from '@kmslab/dashboard';
import type { LabAttempt } from '@kmslab/lab';

/**
 * What the page reads: the dashboard server's state (packages/dashboard/src/
 * dashboard-page.ts), whose parts the host and DNS admin listeners declare
 * in @kmslab/core's admin-api.ts. Only the lab's attempts are typed further
 * here, as the lab makes them (the dashboard package does not depend on the lab).
 */
export type { ClientView, CountPoint, FamilyStats, Fault, HostStatus, HostView, KmsEvent, LabAttempt, LoggedQuery, RequestView, Zone };

/** The lab as the server sends it, its attempts typed as the lab makes them. */
export type LabView = Omit<ServerLabView, 'attempts'> & { attempts: LabAttempt[] };

/** One reading of the lab (`/api/state`, each `state` event). */
export type LabState = Omit<DashboardState, 'lab'> & { lab?: LabView };
