import { describe, expect, test } from 'vitest';
import { encodeHelloRequest } from './codec.js';
import { FrameDecoder } from './frame-decoder.js';

describe('FrameDecoder', () => {
  test('frames split across chunks, and several in one chunk, come out whole and in order', () => {
    const frames = [1, 2, 3].map((id) => encodeHelloRequest(id));
    const stream = Buffer.concat(frames);
    for (const cut of [1, 3, 5, 12, 13, 25, stream.length - 1]) {
      const d = new FrameDecoder();
      const out = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      expect(out.map((f) => f.readUInt32BE(8))).toEqual([1, 2, 3]);
      expect(d.buffered).toBe(0);
    }
  });

  test('a length over 64 KiB is refused before the body arrives', () => {
    const d = new FrameDecoder();
    const header = Buffer.alloc(4);
    header.writeUInt32BE(65_533, 0);
    expect(() => d.push(header)).toThrow(/65537 bytes is over the 65536-byte limit/);
    const ok = Buffer.alloc(4);
    ok.writeUInt32BE(65_532, 0);
    expect(new FrameDecoder().push(ok)).toEqual([]);
  });

  test('a DCE/RPC bind at the start of a stream is KMSLAB_FOREIGN_PROTOCOL, even in small pieces', () => {
    const bind = Buffer.from([5, 0, 11, 3, 0x10, 0, 0, 0, 0x48, 0, 0, 0]);
    const d = new FrameDecoder();
    expect(d.push(bind.subarray(0, 2))).toEqual([]);
    expect(() => d.push(bind.subarray(2))).toThrow(expect.objectContaining({ code: 'KMSLAB_FOREIGN_PROTOCOL' }));
    // Elsewhere in the stream the same bytes are just an oversized length.
    const later = new FrameDecoder();
    later.push(encodeHelloRequest(1));
    expect(() => later.push(bind)).toThrow(expect.objectContaining({ code: 'KMSLAB_FRAME_TOO_LARGE' }));
  });
});
