// Followers of a DNS admin listener's /queries/stream, in a process of their own (bench:dns "harness"):
//   node query-followers.mjs URL N
// opens N connections at once, reads and drops what each is sent, prints one JSON line
// { accepted, refused, failed } once every attempt has its answer, then keeps reading until killed.
import { request } from 'node:http';

const [url, n] = [process.argv[2], Number(process.argv[3])];
const counts = { accepted: 0, refused: 0, failed: 0 };
let settled = 0;
const settle = () => {
  if (++settled === n) process.stdout.write(`${JSON.stringify(counts)}\n`);
};
for (let i = 0; i < n; i++) {
  const req = request(url, { agent: false }, (res) => {
    if (res.statusCode === 200) counts.accepted++;
    else counts.refused++;
    settle();
    res.on('data', () => {});
    res.on('error', () => {});
  });
  req.on('error', () => {
    counts.failed++;
    settle();
  });
  req.end();
}
