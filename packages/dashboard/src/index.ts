export { DashboardServer, type DashboardOptions } from './dashboard-server.js';
export type { AdminSource, CountPoint, DnsView, HostStatusLike, HostView, LabState } from './lab-sources.js';
