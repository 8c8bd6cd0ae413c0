// The bare-Node DNS ceiling, in a process of its own like every server measured:
// one UDP socket that answers every query with one pre-encoded response,
// copying only the query id (no parsing, no lookup).
//   node bench/dns-ceiling.mjs PORT HEX_RESPONSE
import { createSocket } from 'node:dgram';

const [port, hex] = process.argv.slice(2);
const template = Buffer.from(hex, 'hex');
const socket = createSocket('udp4');
socket.on('message', (msg, rinfo) => {
  if (msg.length < 2) return;
  const out = Buffer.from(template);
  out[0] = msg[0];
  out[1] = msg[1];
  socket.send(out, rinfo.port, rinfo.address);
});
socket.bind(Number(port), '127.0.0.1', () => console.log('ready'));
