import type { ErrorCode } from '../errors.js';
import type { LicenseStatus } from '../license-status.js';
import type { RequestKind } from './constants.js';

/** A client asks to be activated or renewed (docs/protocol.md "ACTIVATION_REQUEST"). */
export interface ActivationRequest {
  /** Client machine id, a UUID in its canonical lower-case text form. */
  cmid: string;
  productId: string;
  fqdn: string;
  /** Client time, ms since the Unix epoch. */
  clientTime: number;
  kind: RequestKind;
  /** The client's license status when it asks (counted in the host's statistics). */
  licenseStatus: LicenseStatus;
}

/** The host's answer to a counted request (docs/protocol.md "ACTIVATION_RESPONSE"). */
export interface ActivationResponse {
  /** null when licensed; otherwise why not (0xC004F038: count below threshold). */
  errorCode: ErrorCode | null;
  licensed: boolean;
  /** Current count of the product's application family on this host. */
  count: number;
  /** The threshold that applies to the requesting product. */
  threshold: number;
  family: string;
  activationIntervalMin: number;
  renewalIntervalMin: number;
  /** Minutes until the granted license expires; 0 when not licensed. */
  validityMin: number;
  hostId: string;
  /** Host time, ms since the Unix epoch. */
  hostTime: number;
}

export interface HelloResponse {
  protocolVersion: number;
  software: string;
  hostId: string;
}

export interface ErrorFrame {
  code: ErrorCode;
  message: string;
}

export type Frame =
  | { type: 'activationRequest'; requestId: number; body: ActivationRequest }
  | { type: 'helloRequest'; requestId: number }
  | { type: 'activationResponse'; requestId: number; body: ActivationResponse }
  | { type: 'helloResponse'; requestId: number; body: HelloResponse }
  | { type: 'error'; requestId: number; body: ErrorFrame };
