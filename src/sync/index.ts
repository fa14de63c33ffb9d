// The user-model API: shared variables, a mutex, assume/assert, waitUntil, and the watch check.
export { Shared, type Located, type Op } from './shared.js';
export { ASSERTION, Mutex, SharedState } from './state.js';
export { assume, waitUntil } from './steps.js';
export { checkWatches, unmatchedWatches, type UnmatchedWatch } from './watch.js';
