#!/usr/bin/env node
// The `kmslab` command: compiled JavaScript, no loader, so it starts about as fast as Node does.
import { main } from './main.js';

process.exitCode = await main(process.argv);
