export { DashboardServer, type DashboardOptions } from './dashboard-server.js';
export { DashboardPage, type DashboardPageOptions } from './dashboard-page.js';
export type { AdminSource, CountPoint, DnsView, HostSource, HostStatusLike, HostView, LabState } from './lab-sources.js';
