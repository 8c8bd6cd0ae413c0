import { describe, expect, test } from 'vitest';
import { KmsLabError } from '../errors.js';
import {
  decodeFrame,
  encodeActivationRequest,
  encodeActivationResponse,
  encodeError,
  encodeHelloRequest,
  encodeHelloResponse,
} from './codec.js';
import type { ActivationRequest, ActivationResponse } from './messages.js';

const request: ActivationRequest = {
  cmid: '0b9e3c1a-5d2f-4e8a-9c7b-1f2e3d4c5b6a',
  productId: 'windows-7-professional',
  fqdn: 'pc-01.lab.test',
  clientTime: Date.UTC(2026, 10, 28, 9, 30),
  kind: 'renewal',
  licenseStatus: 'licensed',
};

const response: ActivationResponse = {
  errorCode: '0xC004F038',
  licensed: false,
  count: 13,
  threshold: 25,
  family: 'windows',
  activationIntervalMin: 120,
  renewalIntervalMin: 10080,
  validityMin: 0,
  hostId: 'kms-01',
  hostTime: Date.UTC(2026, 10, 28, 9, 31),
};

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as KmsLabError).code;
  }
  return 'no error';
}

describe('frame codec (docs/protocol.md)', () => {
  test('every frame type round-trips', () => {
    expect(decodeFrame(encodeActivationRequest(42, request))).toEqual({ type: 'activationRequest', requestId: 42, body: request });
    expect(decodeFrame(encodeActivationResponse(0xffff_ffff, response))).toEqual({ type: 'activationResponse', requestId: 0xffff_ffff, body: response });
    expect(decodeFrame(encodeActivationResponse(1, { ...response, errorCode: null, licensed: true, validityMin: 259200 })).type).toBe('activationResponse');
    expect(decodeFrame(encodeHelloRequest(3))).toEqual({ type: 'helloRequest', requestId: 3 });
    expect(decodeFrame(encodeHelloResponse(3, { protocolVersion: 1, software: 'kmslab/0.1.0', hostId: 'h' }))).toEqual({
      type: 'helloResponse', requestId: 3, body: { protocolVersion: 1, software: 'kmslab/0.1.0', hostId: 'h' },
    });
    expect(decodeFrame(encodeError(9, { code: '0xC004F06C', message: 'off by 5 h' }))).toEqual({ type: 'error', requestId: 9, body: { code: '0xC004F06C', message: 'off by 5 h' } });
  });

  test('the header is as documented: length, "KL", version 1, type, request id', () => {
    const f = encodeActivationRequest(0x01020304, request);
    expect(f.readUInt32BE(0)).toBe(f.length - 4);
    expect(f.subarray(4, 6).toString('ascii')).toBe('KL');
    expect([f[6], f[7]]).toEqual([1, 0x01]);
    expect(f.readUInt32BE(8)).toBe(0x01020304);
    expect(f.subarray(12, 28).toString('hex')).toBe(request.cmid.replace(/-/g, ''));
  });

  test('malformed frames are KMSLAB_MALFORMED_FRAME with the request id when known', () => {
    const f = encodeActivationRequest(5, request);
    expect(codeOf(() => decodeFrame(f.subarray(0, 8)))).toBe('KMSLAB_MALFORMED_FRAME');
    const badMagic = Buffer.from(f);
    badMagic[4] = 0;
    expect(codeOf(() => decodeFrame(badMagic))).toBe('KMSLAB_MALFORMED_FRAME');
    const trailing = Buffer.concat([f, Buffer.from([0])]);
    expect(() => decodeFrame(trailing)).toThrow(/1 unexpected bytes/);
    const badKind = Buffer.from(f);
    badKind[12 + 16 + 8] = 7;
    expect(() => decodeFrame(badKind)).toThrow(/unknown request kind 7/);
    try {
      decodeFrame(f.subarray(0, 30));
    } catch (e) {
      expect((e as KmsLabError).detail).toEqual({ requestId: 5 });
    }
  });

  test('another version is KMSLAB_UNSUPPORTED_VERSION', () => {
    const f = encodeHelloRequest(1);
    f[6] = 2;
    expect(codeOf(() => decodeFrame(f))).toBe('KMSLAB_UNSUPPORTED_VERSION');
  });

  test('encoding refuses what the format cannot carry', () => {
    expect(codeOf(() => encodeActivationRequest(1, { ...request, cmid: 'not-a-uuid' }))).toBe('KMSLAB_INVALID_ARGUMENT');
    expect(codeOf(() => encodeActivationRequest(1, { ...request, fqdn: 'x'.repeat(256) }))).toBe('KMSLAB_INVALID_ARGUMENT');
    expect(codeOf(() => encodeActivationRequest(1, { ...request, productId: '' }))).toBe('KMSLAB_INVALID_ARGUMENT');
  });
});
