export { DashboardServer, type DashboardOptions } from './dashboard-server.js';
export { DashboardPage, type DashboardPageOptions, type DashboardState } from './dashboard-page.js';
export type { AdminSource, CountPoint, DnsView, HostSource, HostView, LabSource, LabState, LabView } from './lab-sources.js';
