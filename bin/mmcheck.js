#!/usr/bin/env node
// Thin launcher: the CLI ships compiled (npm ci runs `prepare` → tsc), so startup avoids tsx.
import { main } from '../dist/src/cli/main.js';
import { installPipeGuards } from '../dist/src/cli/process.js';
installPipeGuards();
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
