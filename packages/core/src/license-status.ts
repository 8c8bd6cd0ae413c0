/**
 * License status a client reports with each request; the host keeps a count
 * of requests per status (kms-reference.md "What a host shows"). The numbers
 * are those of WMI SoftwareLicensingProduct.LicenseStatus.
 */
export const LICENSE_STATUS = {
  unlicensed: 0,
  licensed: 1,
  'initial-grace': 2,
  'out-of-tolerance-grace': 3,
  'non-genuine-grace': 4,
  notification: 5,
  'extended-grace': 6,
} as const;

/** A client's license status as it reports it. */
export type LicenseStatus = keyof typeof LICENSE_STATUS;

/** Every license status, in wire order. */
export const LICENSE_STATUS_NAMES = Object.keys(LICENSE_STATUS) as LicenseStatus[];

/** The license status a wire byte stands for, or undefined. */
export function licenseStatusFromWire(value: number): LicenseStatus | undefined {
  return LICENSE_STATUS_NAMES[value];
}
