// Every committed counterexample under traces/ still replays to the violation it records, and
// has the fewest preemptions (minimisation proves it again): the round trip from a found bug to
// a trace a reviewer replays is a CI gate.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinModels, findBuiltin } from '../models/index.js';
import { bindModel, declaredViolations, replaySchedule } from '../src/index.js';
import { parseTrace } from '../src/trace/format.js';
import { minimiseCounterexample } from '../src/trace/minimise.js';
import { replayTrace } from '../src/trace/replay.js';

const dir = path.resolve(__dirname, '../traces');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

describe('committed traces', () => {
  it('exist for exactly the built-in variants that declare a violation', () => {
    const buggy = builtinModels.flatMap((m) => m.variants.filter((v) => v.expect !== 'holds').map((v) => `${m.name}-${v.name}.json`)).sort();
    expect(buggy.length).toBeGreaterThan(0);
    expect(files).toEqual(buggy);
  });

  it.each(files)('%s replays to its recorded violation', (file) => {
    const trace = parseTrace(readFileSync(path.join(dir, file), 'utf8'));
    expect(file).toBe(`${trace.model}-${trace.variant}.json`);
    const model = findBuiltin(trace.model);
    expect(model, `model ${trace.model}`).toBeDefined();
    const result = replayTrace(model!, trace);
    expect(result.failure?.invariant).toBe(trace.violation.invariant);
    expect(result.trace.map((s) => s.label)).toEqual(trace.steps.map((s) => s.label));
    expect(result.hashMatches).toBe(true);
    const variant = model!.variants.find((v) => v.name === trace.variant)!;
    expect(declaredViolations(variant.expect)).toContain(trace.violation.invariant);
  });

  it.each(files)('%s has the fewest preemptions of any counterexample of its invariant', (file) => {
    const trace = parseTrace(readFileSync(path.join(dir, file), 'utf8'));
    expect(trace.version).toBe(2);
    const maxSteps = trace.version === 2 ? trace.maxSteps : undefined;
    const bound = bindModel(findBuiltin(trace.model)!, trace.variant, trace.params, maxSteps);
    const failure = replaySchedule(bound.make, trace.schedule, { maxSteps: bound.maxSteps }).failure!;
    const found = { ...failure, schedule: trace.schedule, trace: [], preemptions: trace.preemptions };
    const { violation, minimality } = minimiseCounterexample(bound.make, found, { maxSteps: bound.maxSteps });
    expect(minimality.fewestPreemptions).toBe(true);
    expect(violation.preemptions).toBe(trace.preemptions);
  });
});
