#!/usr/bin/env node
// The `kmslab` command. pnpm links this file into node_modules/.bin during install, before `prepare`
// builds dist/: a file in git is there on a fresh clone (a link to dist/bin.js was not, and pnpm warned).
import '../dist/bin.js';
