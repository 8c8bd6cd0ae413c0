// The bare-Node DNS ceiling, in a process of its own like every server measured:
// one UDP socket that answers every query with one pre-encoded response,
// copying only the query id (no parsing, no lookup).
//   node bench/dns-ceiling.mjs PORT HEX_RESPONSE [literal]
// With `literal`, the socket skips dgram's dns.lookup before each send, as
// kmslab's does: the ceiling for kmslab's own send path.
import { createSocket } from 'node:dgram';

const [port, hex, mode] = process.argv.slice(2);
const template = Buffer.from(hex, 'hex');
const literal = (address, _family, callback) => callback(null, address, 4);
const socket = mode === 'literal' ? createSocket({ type: 'udp4', lookup: literal }) : createSocket('udp4');
socket.on('message', (msg, rinfo) => {
  if (msg.length < 2) return;
  const out = Buffer.from(template);
  out[0] = msg[0];
  out[1] = msg[1];
  socket.send(out, rinfo.port, rinfo.address);
});
socket.bind(Number(port), '127.0.0.1', () => console.log('ready'));
