#!/usr/bin/env node
// Thin launcher: the CLI ships compiled (npm ci runs `prepare` → tsc), so startup avoids tsx.
// `explore` runs its search on a worker thread: started first, it loads the engine and the
// models on the other core while this thread loads the CLI (src/cli/warm-worker.ts).
import { startExplorer } from '../dist/src/cli/warm-worker.js';
if (process.argv[2] === 'explore') startExplorer();
const { main } = await import('../dist/src/cli/main.js');
const { installPipeGuards } = await import('../dist/src/cli/process.js');
installPipeGuards();
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
