// A model is built once per execution. A generator function made inside the build (a nested
// `function*`, a `body: function* () {…}` literal) is a new closure each time, and V8 gives each
// such closure a new hidden class and prototype at its first call — microseconds per closure
// per execution, and the class pins the build through young-generation collections. So the
// built-in models' threads run generator methods of module-level classes (or module-level
// generators): two builds' threads then yield generator objects of one prototype.
import { describe, expect, it } from 'vitest';
import { builtinModels } from '../../models/index.js';
import { resolveParams } from '../../src/model.js';

describe('built-in models run shared generator functions', () => {
  for (const model of builtinModels) {
    it(`${model.name}: every thread of two builds is a generator of the same function`, () => {
      const params = resolveParams(model);
      for (const v of model.variants) {
        const a = model.build(v.name, params);
        const b = model.build(v.name, params);
        expect(b.threads.length).toBe(a.threads.length);
        a.threads.forEach((t, i) => {
          const ga = t.body();
          const gb = b.threads[i]!.body();
          expect(Object.getPrototypeOf(gb), `${v.name}: thread ${t.name}`).toBe(Object.getPrototypeOf(ga));
        });
      }
    });
  }
});
