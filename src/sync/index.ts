// The user-model API: shared variables, a mutex, assume/assert, waitUntil, and the watch check.
export { Shared, type Located, type Op } from './shared.js';
export { Mutex, SharedState } from './state.js';
export { ASSERTION, assert, assume, waitUntil } from './steps.js';
export { checkWatches, unmatchedWatches, type UnmatchedWatch } from './watch.js';
