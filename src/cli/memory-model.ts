// --memory-model for explore and replay: the memory model of every machine of the run whose
// model names none. It is MMCHECK_MEMORY_MODEL for the length of the command — in this process
// (setDefaultMemoryModel) and in the worker threads it starts (they copy the environment when
// they start and read the variable when the machine module loads) — and put back afterwards.
// Traces and checkpoints record it, so replay and --resume run under the recorded model.
import { type MemoryModel, MEMORY_MODELS, setDefaultMemoryModel } from '../machine/index.js';
import { defaultMemoryModel } from '../machine/tso/store-buffer.js';
import { UsageError } from '../model.js';
import { quoteField } from '../schema/text.js';

const VAR = 'MMCHECK_MEMORY_MODEL';

/** What MMCHECK_MEMORY_MODEL asks for ('sc' when unset or empty); another value is bad usage. */
export function envMemoryModel(): MemoryModel {
  const v = process.env[VAR];
  if (v === undefined || v === '') return 'sc';
  if (!(MEMORY_MODELS as readonly string[]).includes(v)) throw new UsageError(`${VAR} must be one of ${MEMORY_MODELS.join(', ')}, got "${quoteField(v, 20)}"`);
  return v as MemoryModel;
}

/**
 * The memory model a run continues under when a trace or checkpoint recorded one: the recorded
 * one. A --memory-model that says otherwise is an error, not a silent switch (the environment
 * variable is a default, and gives way).
 */
export function recordedMemoryModel(recorded: MemoryModel, flag: MemoryModel | undefined, what: string, action: string): MemoryModel {
  if (flag !== undefined && flag !== recorded) {
    throw new UsageError(`${what} was recorded under the memory model ${recorded}, but --memory-model says ${flag}: ${action} runs under the recorded one (leave out --memory-model)`);
  }
  return recorded;
}

export async function withMemoryModel<T>(model: MemoryModel | undefined, run: () => Promise<T>): Promise<T> {
  if (model === undefined) return run();
  const env = process.env[VAR];
  const before = defaultMemoryModel(); // callers check MMCHECK_MEMORY_MODEL first (envMemoryModel)
  process.env[VAR] = model;
  setDefaultMemoryModel(model);
  try {
    return await run();
  } finally {
    if (env === undefined) delete process.env[VAR];
    else process.env[VAR] = env;
    setDefaultMemoryModel(before);
  }
}
