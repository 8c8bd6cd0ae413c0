import { openLoop, requestFrames } from './load/kms-load.js';
const port = Number(process.argv[2]);
const rate = Number(process.argv[3]);
const conns = Number(process.argv[4] ?? 1000);
for (let i = 0; i < 3; i++) {
  const r = await openLoop({ port, connections: conns, rate, warmupMs: 1000, durationMs: 3000, frames: requestFrames('windows-7-professional') });
  console.log(`${Math.round(r.perSecond)}/s p50 ${r.p50Ms.toFixed(2)} p99 ${r.p99Ms.toFixed(2)}ms errors ${r.errors} lag ${r.lagP99Ms.toFixed(2)}`);
}
