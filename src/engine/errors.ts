// One error taxonomy. A ModelError is a defect of the model under test (a footprint that
// leaves out an access, a model that is not deterministic, a thread that yields something that
// is not a Step): its result cannot be trusted, so it is reported to the user with its cause and
// fix (exit 2), never as a finding. An EngineError is a bug in mmcheck itself (exit 3).
import { brand, hasBrand } from '../brand.js';
import { UsageError } from '../model.js';

const MODEL_ERROR = brand('ModelError');
const NONDETERMINISM = brand('NondeterminismError');
const ENGINE_ERROR = brand('EngineError');

export class ModelError extends UsageError {
  readonly [MODEL_ERROR] = true;
  static override [Symbol.hasInstance](x: unknown): boolean {
    return hasBrand(x, MODEL_ERROR);
  }
}

/** The same schedule prefix took another path: results built on replaying it would be wrong. */
export class NondeterminismError extends ModelError {
  readonly [NONDETERMINISM] = true;
  static override [Symbol.hasInstance](x: unknown): boolean {
    return hasBrand(x, NONDETERMINISM);
  }
}

/** Misuse of the engine by a strategy or the driver: a bug in mmcheck, not in the model. */
export class EngineError extends Error {
  readonly [ENGINE_ERROR] = true;
  static override [Symbol.hasInstance](x: unknown): boolean {
    return hasBrand(x, ENGINE_ERROR);
  }
}

/** An exception's message (or the thrown value, as text). */
export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
