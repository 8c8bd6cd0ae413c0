export { DashboardServer, type DashboardOptions } from './dashboard-server.js';
export { DashboardPage, type DashboardPageOptions } from './dashboard-page.js';
export type { AdminSource, ClientsLike, CountPoint, DnsView, HostSource, HostStatusLike, HostView, LabSource, LabState, LabView, RequestsLike } from './lab-sources.js';
