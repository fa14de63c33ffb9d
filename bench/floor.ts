// The `floor` workload kind of `npm run bench` (MMCHECK_BENCH_KIND=floor, and part of the full
// run): what a model costs with no engine at all. Each model variant is built and run once,
// every thread to its end (or the first failed invariant), by the plainest possible driver: the
// lowest-numbered enabled thread steps, its footprint is evaluated and its step run, and a
// per-step invariant is checked after it when the step writes a location the invariant watches
// (every step for one without a watch list), as the engine checks them. No audit, no reduction,
// no saved states, no trace. Both builds run the same schedule. What an engine adds to a step
// is its time beyond this one: a search that runs these steps (a violation found in its first
// executions) costs at least this much, unless the engine skips more checks than its own.

/** The parts of a model the floor driver uses (the same in every build so far). */
interface FloorModel {
  readonly name: string;
  readonly variants: readonly { readonly name: string }[];
  readonly params: Readonly<Record<string, { readonly default: number }>>;
  build(variant: string, params: Record<string, number>): FloorProgram;
}

interface FloorStep {
  readonly footprint: readonly { readonly loc: string; readonly write: boolean }[] | (() => readonly { readonly loc: string; readonly write: boolean }[]);
  enabled?(): boolean;
  run(): unknown;
}

interface FloorProgram {
  readonly threads: readonly { readonly actor?: boolean; body(): Generator<FloorStep, void, unknown> }[];
  readonly invariants: readonly { readonly atEnd?: boolean; readonly watch?: readonly string[]; check(): string | null }[];
}

export interface FloorMeasure {
  /** Steps of the one execution. */
  readonly steps: number;
  /** One build of the program (machine, threads' specs, invariants), µs. */
  readonly buildUs: number;
  /** One step: the footprint, the run, the thread's code to its next step, the invariants. */
  readonly stepUs: number;
}

export interface FloorRow {
  readonly workload: string;
  readonly kind: 'floor';
  readonly current: FloorMeasure;
  readonly baseline?: FloorMeasure;
  /** The baseline's µs per step over this build's (above 1: this build's model runs faster). */
  readonly stepRatio?: number;
  /** Both builds ran as many steps (the same schedule; a model whose steps changed may not). */
  readonly sameSteps?: boolean;
}

/** How long one measurement loops (ms); the best of REPS, the builds alternating. */
const LOOP_MS = Number(process.env.MMCHECK_BENCH_FLOOR_MS ?? 150);
const REPS = 3;
/** An execution is cut here (an actor-driven model whose threads never finish). */
const MAX_STEPS = 5000;

/** One execution of `make()`'s program, lowest enabled thread first: [steps, build µs]. */
function once(make: () => FloorProgram): [number, number] {
  const t0 = performance.now();
  const p = make();
  const built = performance.now() - t0;
  const threads = p.threads.map((t) => {
    const gen = t.body();
    const r = gen.next();
    return { gen, step: r.done ? null : r.value, actor: t.actor === true };
  });
  const invariants = p.invariants.filter((i) => i.atEnd !== true);
  // Which invariants a write to a location can change (by location, once per execution).
  const seenBy = new Map<string, boolean[]>();
  const watching = (loc: string): boolean[] => {
    let w = seenBy.get(loc);
    if (w === undefined) seenBy.set(loc, (w = invariants.map((i) => i.watch === undefined || i.watch.some((prefix) => loc.startsWith(prefix)))));
    return w;
  };
  let steps = 0;
  try {
    if (invariants.some((i) => i.check() !== null)) return [steps, built * 1000];
    while (steps < MAX_STEPS && threads.some((t) => !t.actor && t.step !== null)) {
      const t = threads.find((x) => x.step !== null && (x.step.enabled === undefined || x.step.enabled()));
      if (t === undefined) break;
      const s = t.step!;
      const footprint = typeof s.footprint === 'function' ? s.footprint() : s.footprint;
      let result: unknown;
      try {
        result = s.run();
      } catch {
        break; // an assertion or a failed assumption ends the execution, as in a search
      }
      const r = t.gen.next(result);
      t.step = r.done ? null : r.value;
      steps++;
      let failed = false;
      for (let i = 0; i < invariants.length && !failed; i++) {
        if (invariants[i]!.watch !== undefined && !footprint.some((a) => a.write && watching(a.loc)[i]!)) continue;
        failed = invariants[i]!.check() !== null;
      }
      if (failed) return [steps, built * 1000];
    }
    // And every one at the end, as the engine checks them.
    for (const i of invariants) if (i.check() !== null) break;
  } catch {
    // Thread code or an invariant threw: the execution ends there, as a search's would.
  }
  return [steps, built * 1000];
}

function measure(make: () => FloorProgram, warmUp = false): FloorMeasure {
  if (warmUp) {
    // The first model measured would otherwise run before the JIT has compiled the machine.
    const t0 = performance.now();
    while (performance.now() - t0 < LOOP_MS) once(make);
  }
  once(make);
  const start = performance.now();
  let n = 0;
  let steps = 0;
  let buildUs = 0;
  while (performance.now() - start < LOOP_MS) {
    const [s, b] = once(make);
    steps = s;
    buildUs += b;
    n++;
  }
  const totalUs = (performance.now() - start) * 1000;
  return { steps, buildUs: Number((buildUs / n).toFixed(1)), stepUs: Number(((totalUs - buildUs) / n / Math.max(steps, 1)).toFixed(2)) };
}

const best = (a: FloorMeasure | undefined, b: FloorMeasure): FloorMeasure => (a === undefined || b.stepUs < a.stepUs ? b : a);

/** A row per model variant at its defaults: this build's floor and the baseline's, alternating. */
export function floorRows(current: readonly unknown[], baseline: readonly unknown[] | undefined): FloorRow[] {
  const rows: FloorRow[] = [];
  // Every variant of both builds first, for a while: otherwise the rows measured first run
  // before the JIT has compiled the machine's common paths (cpa fixed, first, took twice its time).
  const all = [current, ...(baseline ? [baseline] : [])].flatMap((models) =>
    (models as readonly FloorModel[]).flatMap((m) => m.variants.map((v) => () => m.build(v.name, Object.fromEntries(Object.entries(m.params).map(([k, p]) => [k, p.default]))))),
  );
  const t0 = performance.now();
  while (performance.now() - t0 < 4 * LOOP_MS) for (const make of all) once(make);
  for (const m of current as readonly FloorModel[]) {
    const old = (baseline as readonly FloorModel[] | undefined)?.find((x) => x.name === m.name);
    const params = (model: FloorModel) => Object.fromEntries(Object.entries(model.params).map(([k, p]) => [k, p.default]));
    for (const v of m.variants) {
      process.stderr.write(`bench: floor ${m.name}/${v.name}\n`);
      const hasOld = old !== undefined && old.variants.some((x) => x.name === v.name);
      let now: FloorMeasure | undefined;
      let before: FloorMeasure | undefined;
      for (let i = 0; i < REPS; i++) {
        now = best(now, measure(() => m.build(v.name, params(m)), i === 0));
        if (hasOld) before = best(before, measure(() => old.build(v.name, params(old)), i === 0));
      }
      rows.push({
        workload: `${m.name}/${v.name}`,
        kind: 'floor',
        current: now!,
        ...(before ? { baseline: before, stepRatio: Number((before.stepUs / now!.stepUs).toFixed(2)), sameSteps: before.steps === now!.steps } : {}),
      });
    }
  }
  return rows;
}
