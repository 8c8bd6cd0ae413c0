export { CLIENT_STATES, type ClientStateName, type ReportData } from './report-data.js';
export { renderReportHtml } from './render-html.js';
export { scenarioReport } from './scenario-report.js';
