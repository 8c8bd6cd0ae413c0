import type { Check } from '../scenarios/check.js';

/** Client states drawn in reports, in stacking order. */
export const CLIENT_STATES = ['grace', 'licensed', 'notification', 'left'] as const;
/** The states the fleet model counts clients in. */
export type ClientStateName = (typeof CLIENT_STATES)[number];

/**
 * What a lab run leaves for its report: the HTML charts and the JSON summary
 * are both made from this, whether it came from a scenario (the real host and
 * client code) or from the fleet model. Times are virtual minutes from `start`.
 */
export interface ReportData {
  title: string;
  description: string;
  /** ISO time of minute 0. */
  start: string;
  minutes: number;
  /** Activation thresholds of the families drawn (one line each). */
  thresholds: Array<{ family: string; kind: string; value: number }>;
  /** Count per host and family, as [minute, count] steps. */
  counts: Array<{ host: string; family: string; points: Array<[number, number]> }>;
  /** Clients in each state, sampled every `step` minutes from minute 0. */
  states: { step: number; series: Record<ClientStateName, number[]> };
  /** Requests each host answered, per hour from minute 0. */
  requests: Array<{ host: string; perHour: number[] }>;
  /** Things that happened (outages, SRV changes…), drawn as markers. */
  events: Array<{ minute: number; label: string }>;
  /** The Windows events the run's hosts and clients logged (12288-12294), counted by id and HRESULT; the fleet model logs none. */
  windowsEvents?: Array<{ id: number; hresult: string; count: number }>;
  checks: Check[];
  summary: Record<string, unknown>;
}
