// --memory-model for explore and replay: the memory model of every machine of the run whose
// model names none. It is MMCHECK_MEMORY_MODEL for the length of the command — in this process
// (setDefaultMemoryModel) and in the worker threads it starts (they copy the environment when
// they start and read the variable when the machine module loads) — and put back afterwards.
import { type MemoryModel, setDefaultMemoryModel } from '../machine/index.js';
import { defaultMemoryModel } from '../machine/tso/store-buffer.js';

const VAR = 'MMCHECK_MEMORY_MODEL';

export async function withMemoryModel<T>(model: MemoryModel | undefined, run: () => Promise<T>): Promise<T> {
  if (model === undefined) return run();
  const env = process.env[VAR];
  const before = defaultMemoryModel();
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
