export { allowedHosts, createAdminApp, listenAdmin, methodNotAllowed, openEventStream, sendJson, sendLine, type AdminApp, type AdminAppOptions, type AdminReply, type AdminRequest } from './http/admin-app.js';
export { eventRoutes } from './http/event-routes.js';
export { adminTokenFor, bearerMatches, checkAdminToken, generateAdminToken, isLoopbackAddress } from './admin-token.js';
export { TcpConnections, type TcpConnectionLimits } from './net/tcp-connections.js';
