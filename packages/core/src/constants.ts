/**
 * KMS numbers, each with where it comes from. kms-reference.md is the
 * project's summary of Microsoft's documentation ("KMS activation planning",
 * "slmgr.vbs options for volume activation").
 */
const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** Activation thresholds: kms-reference.md "Counting" (server OS 5, client OS 25, Office 5). */
export const THRESHOLDS = { client: 25, server: 5, office: 5 } as const;

/** Unactivated clients retry every 120 min: kms-reference.md "Client timing". */
export const DEFAULT_ACTIVATION_INTERVAL_MIN = 120;
/** Activated clients renew every 10,080 min (7 days): kms-reference.md "Client timing". */
export const DEFAULT_RENEWAL_INTERVAL_MIN = 10_080;
/** Both intervals can be set between 15 min and 30 days: kms-reference.md "Client timing". */
export const INTERVAL_MIN_MINUTES = 15;
/** The longest retry or renewal interval a host may set (30 days). */
export const INTERVAL_MAX_MINUTES = 43_200;

/** Activation is valid 180 days, restarted by every successful renewal: kms-reference.md "Client timing". */
export const ACTIVATION_VALIDITY_MS = 180 * DAY_MS;
/** Initial grace after install (Windows 7 era): kms-reference.md "Client timing". */
export const DEFAULT_GRACE_MS = 30 * DAY_MS;

/** A client record not renewed within 30 days is discarded: kms-reference.md "Counting". */
export const COUNT_WINDOW_MS = 30 * DAY_MS;
/** The host keeps at most 50 records (twice the largest threshold): kms-reference.md "Counting". */
export const MAX_CLIENT_RECORDS = 50;

/** A request more than 4 h off the host's time is refused with 0xC004F06C: kms-reference.md "Client timing". */
export const MAX_CLOCK_SKEW_MS = 4 * 60 * MINUTE_MS;

/** KMS listens on TCP 1688: kms-reference.md "Roles". */
export const DEFAULT_KMS_PORT = 1688;
/** **kmslab:** the host's admin HTTP listener (/status, /metrics, /healthz), loopback only by default. */
export const DEFAULT_ADMIN_ADDRESS = '127.0.0.1:9688';
/** The SRV owner a KMS host publishes and clients look up: kms-reference.md "Discovery". */
export const KMS_SRV_LABELS = '_vlmcs._tcp';

/** `_vlmcs._tcp.<domain>`: where a domain's KMS hosts are found. */
export function kmsSrvName(domain: string): string {
  return `${KMS_SRV_LABELS}.${domain.replace(/\.$/, '')}`;
}

/** **kmslab:** SRV TTL, since none is documented: kms-reference.md "Discovery". */
export const DEFAULT_SRV_TTL_S = 3600;

/** Milliseconds in a minute and a day. */
export const TIME = { MINUTE_MS, DAY_MS } as const;

/** True for a whole number of minutes from 15 to 43,200. */
export function isValidInterval(minutes: number): boolean {
  return Number.isInteger(minutes) && minutes >= INTERVAL_MIN_MINUTES && minutes <= INTERVAL_MAX_MINUTES;
}
