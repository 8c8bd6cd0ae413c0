#!/usr/bin/env node
// The `kmslab` command: compiled JavaScript, no loader, so it starts about as fast as Node does.
import { main } from './main.js';

const code = await main(process.argv);
// A command that failed once it had begun (a listener it opened, a timer) must not stay up serving: out now.
if (code !== 0) process.exit(code);
