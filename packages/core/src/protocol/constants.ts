/** Wire constants of the kmslab protocol; docs/protocol.md is the specification. */
export const PROTOCOL_VERSION = 1;
/** "KL": lets both sides tell a kmslab frame from anything else on port 1688. */
export const MAGIC = 0x4b4c;
/** Whole frame, length prefix included: docs/protocol.md "Limits". */
export const MAX_FRAME_BYTES = 64 * 1024;
/** Length prefix (4) + magic (2) + version (1) + type (1) + request id (4). */
export const HEADER_BYTES = 12;

/** Frame type bytes (docs/protocol.md). */
export const FRAME_TYPE = {
  activationRequest: 0x01,
  helloRequest: 0x02,
  makRequest: 0x03,
  activationResponse: 0x81,
  helloResponse: 0x82,
  makResponse: 0x83,
  error: 0xff,
} as const;

/** The name of a frame type. */
export type FrameTypeName = keyof typeof FRAME_TYPE;

/** Request kind bytes: activation or renewal. */
export const REQUEST_KIND = { activation: 1, renewal: 2 } as const;
/** Activation or renewal. */
export type RequestKind = keyof typeof REQUEST_KIND;
