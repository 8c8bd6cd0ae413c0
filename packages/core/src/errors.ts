/**
 * One error type for all of kmslab, with codes from one closed table.
 * KMS codes are the HRESULTs a real KMS client shows (kms-reference.md "Error
 * codes kmslab uses"); KMSLAB_* codes are kmslab's own. Every code has a
 * 32-bit wire value so the host can send it in an error frame
 * (docs/protocol.md), and an HTTP status an admin route answers it with (as
 * fastify keeps a status beside each of its error codes); docs/errors.md
 * documents each (a test keeps them in step).
 */
export const ERROR_CODES = {
  '0xC004F038': {
    wire: 0xc004f038,
    http: 409,
    message: 'The count reported by the KMS host is insufficient for this product',
  },
  '0xC004F042': {
    wire: 0xc004f042,
    http: 422,
    message: 'The KMS host cannot activate this product (its key group or license packs do not cover it)',
  },
  '0xC004F06C': {
    wire: 0xc004f06c,
    http: 422,
    message: "The request time differs from the KMS host's time by more than 4 hours",
  },
  '0xC004F074': {
    wire: 0xc004f074,
    http: 502,
    message: 'No KMS host could be contacted',
  },
  '0x8007232B': {
    wire: 0x8007232b,
    http: 502,
    message: 'DNS name does not exist: no _vlmcs._tcp SRV record was found',
  },
  // The DNS failures below are the HRESULTs of the Win32 errors a Windows client's lookup returns
  // (kms-reference.md "DNS failures as a Windows client reports them").
  '0x8007251D': {
    wire: 0x8007251d,
    http: 502,
    message: 'No records found for the DNS query: the _vlmcs._tcp name has no SRV records',
  },
  '0x8007232A': {
    wire: 0x8007232a,
    http: 502,
    message: 'DNS server failure (SERVFAIL) for the _vlmcs._tcp SRV lookup',
  },
  '0x8007232D': {
    wire: 0x8007232d,
    http: 502,
    message: 'The DNS server refused the _vlmcs._tcp SRV lookup (REFUSED)',
  },
  '0x80072329': {
    wire: 0x80072329,
    http: 502,
    message: 'The DNS server could not read the _vlmcs._tcp SRV query (FORMERR)',
  },
  '0x8007232C': {
    wire: 0x8007232c,
    http: 502,
    message: 'The DNS server does not implement the query (NOTIMP)',
  },
  '0x800705B4': {
    wire: 0x800705b4,
    http: 504,
    message: 'No DNS server answered the _vlmcs._tcp SRV lookup in time',
  },
  '0x8007007B': {
    wire: 0x8007007b,
    http: 422,
    message: 'No domain to search for _vlmcs._tcp: the client has no primary DNS suffix and no search list',
  },
  KMSLAB_HOST_UNAVAILABLE: {
    wire: 0x4b4c0001,
    http: 503,
    message: 'The KMS host cannot reach its store right now; retry later',
  },
  KMSLAB_UNKNOWN_PRODUCT: {
    wire: 0x4b4c0002,
    http: 400,
    message: 'The product id is not in the catalog',
  },
  KMSLAB_MALFORMED_FRAME: {
    wire: 0x4b4c0003,
    http: 400,
    message: 'The frame does not follow the kmslab protocol',
  },
  KMSLAB_FRAME_TOO_LARGE: {
    wire: 0x4b4c0004,
    http: 413,
    message: 'The frame is larger than the 64 KiB limit',
  },
  KMSLAB_UNSUPPORTED_VERSION: {
    wire: 0x4b4c0005,
    http: 400,
    message: 'The protocol version is not supported by this host',
  },
  KMSLAB_FOREIGN_PROTOCOL: {
    wire: 0x4b4c0006,
    http: 400,
    message: "The peer speaks another protocol (a real KMS client's DCE/RPC); kmslab does not speak Microsoft's activation protocol",
  },
  KMSLAB_TIMEOUT: {
    wire: 0x4b4c0007,
    http: 504,
    message: 'The operation timed out',
  },
  KMSLAB_CONNECTION_FAILED: {
    wire: 0x4b4c0008,
    http: 502,
    message: 'The connection to the KMS host failed or closed before an answer',
  },
  KMSLAB_SHUTTING_DOWN: {
    wire: 0x4b4c0009,
    http: 503,
    message: 'The KMS host is shutting down; try another host',
  },
  KMSLAB_INVALID_ARGUMENT: {
    wire: 0x4b4c000a,
    http: 400,
    message: 'An argument or option is not valid',
  },
  KMSLAB_INVALID_CATALOG: {
    wire: 0x4b4c000b,
    http: 400,
    message: 'The product catalog file is not valid',
  },
  KMSLAB_STORE_CORRUPT: {
    wire: 0x4b4c000c,
    http: 500,
    message: "The store's saved state cannot be read",
  },
  KMSLAB_LISTEN_FAILED: {
    wire: 0x4b4c000d,
    http: 500,
    message: 'Cannot listen on the address and port asked for',
  },
  KMSLAB_MAK_INVALID: {
    wire: 0x4b4c000e,
    http: 422,
    message: 'The multiple activation key is not known to the activation authority',
  },
  KMSLAB_MAK_EXHAUSTED: {
    wire: 0x4b4c000f,
    http: 409,
    message: 'The multiple activation key has no activations left',
  },
  KMSLAB_DNS_MALFORMED: {
    wire: 0x4b4c0011,
    http: 502,
    message: 'A DNS message cannot be read or written',
  },
  KMSLAB_INTERNAL: {
    wire: 0x4b4c0012,
    http: 500,
    message: 'kmslab hit an internal error (a bug: please report it with the command and its output)',
  },
  KMSLAB_MALFORMED_REQUEST: {
    wire: 0x4b4c0010,
    http: 400,
    message: 'A field of the request holds a value the protocol does not allow',
  },
  KMSLAB_DATA_DIR_LOCKED: {
    wire: 0x4b4c0013,
    http: 409,
    message: 'Another kmslab process is using this data dir',
  },
  KMSLAB_DNS_REFUSED: {
    wire: 0x4b4c0014,
    http: 502,
    message: 'The DNS server refused the request (REFUSED, NOTAUTH, or a TSIG error): it needs a key it accepts',
  },
} as const satisfies Record<string, { wire: number; http: number; message: string }>;

/** Every error code kmslab uses (docs/errors.md). */
export type ErrorCode = keyof typeof ERROR_CODES;

const BY_WIRE = new Map<number, ErrorCode>(
  (Object.keys(ERROR_CODES) as ErrorCode[]).map((code) => [ERROR_CODES[code].wire, code]),
);

/** kmslab's one error type: a stable `code` (docs/errors.md), a message a user can act on, `cause` kept. */
export class KmsLabError extends Error {
  override readonly name = 'KmsLabError';
  readonly code: ErrorCode;
  /** Facts a caller may show or log (host tried, product, …). */
  readonly detail: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; detail?: Record<string, unknown> }) {
    super(message ?? ERROR_CODES[code].message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = options?.detail;
  }

  get wireCode(): number {
    return ERROR_CODES[this.code].wire;
  }

  /** The HTTP status an admin route answers this error with (docs/errors.md). */
  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }
}

/** True when `value` is one of kmslab's error codes. */
export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}

/** The code a wire value stands for; unknown values (a newer host) read as a malformed frame. */
export function errorCodeFromWire(wire: number): ErrorCode | undefined {
  return BY_WIRE.get(wire >>> 0);
}

/**
 * Anything thrown, as a KmsLabError (keeps the original as `cause`). Without
 * a fallback, an operating-system error (it names a syscall: a refused or
 * reset connection) is KMSLAB_CONNECTION_FAILED and anything else
 * KMSLAB_INTERNAL: a bug must not read as "host unreachable, try the next one".
 */
export function toKmsLabError(err: unknown, fallback?: ErrorCode): KmsLabError {
  if (err instanceof KmsLabError) return err;
  fallback ??= typeof (err as NodeJS.ErrnoException | null)?.syscall === 'string' ? 'KMSLAB_CONNECTION_FAILED' : 'KMSLAB_INTERNAL';
  const message = err instanceof Error ? `${ERROR_CODES[fallback].message}: ${err.message}` : undefined;
  return new KmsLabError(fallback, message, { cause: err });
}
