import { toKmsLabError } from '@kmslab/core';

/**
 * What a failed DNS update is, as event 12293 names it: the DNS error the
 * update got (the server's RCODE, or its TSIG error when it did not take the
 * key; a timeout; a refused connection) and the HRESULT a Windows host logs
 * for it — `0x8007` and the Win32 error of winerror.h (DNS_ERROR_RCODE_*,
 * ERROR_TIMEOUT, WSAECONNREFUSED).
 */
export function publishFailure(err: unknown): { dnsError: string; hresult: string } {
  const e = toKmsLabError(err);
  if (e.code === 'KMSLAB_DNS_REFUSED') {
    const dnsError = typeof e.detail?.dnsError === 'string' ? e.detail.dnsError : 'REFUSED';
    return { dnsError, hresult: win32(DNS_ERRORS[dnsError] ?? DNS_ERRORS.REFUSED!) };
  }
  if (e.code === 'KMSLAB_TIMEOUT') return { dnsError: 'timeout', hresult: win32(1460) };
  if (/No zone for/.test(e.message)) return { dnsError: 'no zone', hresult: win32(DNS_ERRORS.NXDOMAIN!) };
  return { dnsError: 'connection refused', hresult: win32(10061) };
}

/** winerror.h: DNS_ERROR_RCODE_FORMAT_ERROR 9001 … DNS_ERROR_RCODE_BADTIME 9018. */
const DNS_ERRORS: Record<string, number> = {
  FORMERR: 9001, SERVFAIL: 9002, NXDOMAIN: 9003, NOTIMP: 9004, REFUSED: 9005, YXDOMAIN: 9006, YXRRSET: 9007, NXRRSET: 9008,
  NOTAUTH: 9009, NOTZONE: 9010, BADSIG: 9016, BADKEY: 9017, BADTIME: 9018,
};

/** HRESULT_FROM_WIN32: 0x8007xxxx. */
function win32(code: number): string {
  return `0x8007${code.toString(16).toUpperCase().padStart(4, '0')}`;
}
