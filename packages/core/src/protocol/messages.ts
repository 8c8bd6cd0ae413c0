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

/** A client asks the emulated activation authority to activate it with a MAK (docs/protocol.md "MAK_REQUEST"). */
export interface MakRequest {
  cmid: string;
  productId: string;
  clientTime: number;
  key: string;
}

/** MAK activation granted; it does not expire and needs no renewal. */
export interface MakResponse {
  /** Activations left on the key after this one. */
  remaining: number;
  hostId: string;
}

/** The body of a HELLO_RESPONSE: who answered. */
export interface HelloResponse {
  protocolVersion: number;
  software: string;
  hostId: string;
}

/** The body of an ERROR frame. */
export interface ErrorFrame {
  code: ErrorCode;
  message: string;
}

/** A decoded frame: its type, request id and body. */
export type Frame =
  | { type: 'activationRequest'; requestId: number; body: ActivationRequest }
  | { type: 'helloRequest'; requestId: number }
  | { type: 'makRequest'; requestId: number; body: MakRequest }
  | { type: 'makResponse'; requestId: number; body: MakResponse }
  | { type: 'activationResponse'; requestId: number; body: ActivationResponse }
  | { type: 'helloResponse'; requestId: number; body: HelloResponse }
  | { type: 'error'; requestId: number; body: ErrorFrame };
