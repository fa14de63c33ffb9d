// One error taxonomy. A ModelError is a defect of the model under test (a footprint that
// leaves out an access, a model that is not deterministic, a thread that yields something that
// is not a Step): its result cannot be trusted, so it is reported to the user with its cause and
// fix (exit 2), never as a finding. An EngineError is a bug in mmcheck itself (exit 3).
import { UsageError } from '../model.js';

export class ModelError extends UsageError {}

/** The same schedule prefix took another path: results built on replaying it would be wrong. */
export class NondeterminismError extends ModelError {}

/** Misuse of the engine by a strategy or the driver: a bug in mmcheck, not in the model. */
export class EngineError extends Error {}
