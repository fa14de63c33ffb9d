// Models as data: a named program family with parameters and variants, each variant declaring
// what exploring it should show. The engine never sees any of this — only the Program.
import { brand, hasBrand } from './brand.js';
import { DEFAULT_MAX_STEPS } from './engine/results.js';
import type { Program } from './engine/types.js';

export interface ParamSpec {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly description: string;
}

/**
 * What a variant should show: `holds`, or a violation of `violates` — or of one of `or`, the
 * other invariants its bug can break first. Which of those a search reports depends on the
 * order it tries interleavings in (DPOR, bounded and PCT search each meet another one first),
 * so a buggy variant names every invariant it can violate, and every strategy's verdict is one
 * it declares. `violates` is the one DPOR reports at the defaults.
 */
export type Expectation = 'holds' | { readonly violates: string; readonly or?: readonly string[] };

export interface VariantSpec {
  readonly name: string;
  readonly description: string;
  /** What the variant shows at the model's default parameters (what `mmcheck list` prints). */
  readonly expect: Expectation;
  /**
   * What it shows at other parameters, when they change it (a speculative getter that the
   * variant's locking does not cover; no thread left to race): given every parameter resolved.
   * It must agree with `expect` at the defaults (defineModel checks).
   */
  readonly expectFor?: (params: Params) => Expectation;
}

export interface InvariantDoc {
  readonly name: string;
  readonly description: string;
}

export type Params = Readonly<Record<string, number>>;

export interface ModelSpec {
  readonly name: string;
  readonly title: string;
  /** The kernel code or mailing-list thread the model follows. */
  readonly source: string;
  readonly params: Readonly<Record<string, ParamSpec>>;
  readonly variants: readonly VariantSpec[];
  readonly invariants: readonly InvariantDoc[];
  /** Per-execution step bound for this model (livelock detection). */
  readonly maxSteps?: number;
  build(variant: string, params: Params): Program;
}

export type Model = ModelSpec;

const USAGE_ERROR = brand('UsageError');

export class UsageError extends Error {
  readonly [USAGE_ERROR] = true;
  static override [Symbol.hasInstance](x: unknown): boolean {
    return hasBrand(x, USAGE_ERROR);
  }
}

export function defineModel(spec: ModelSpec): Model {
  if (spec.variants.length === 0) throw new UsageError(`model ${spec.name} has no variants`);
  const names = new Set<string>();
  for (const v of spec.variants) {
    if (names.has(v.name)) throw new UsageError(`model ${spec.name}: variant ${v.name} declared twice`);
    names.add(v.name);
  }
  for (const [k, p] of Object.entries(spec.params)) {
    if (!(p.min <= p.default && p.default <= p.max)) throw new UsageError(`model ${spec.name}: parameter ${k} default outside [min, max]`);
  }
  const defaults = resolveParams(spec);
  const documented = new Set([...spec.invariants.map((i) => i.name), ...ENGINE_FAILURES]);
  for (const v of spec.variants) {
    if (v.expectFor && !sameExpectation(v.expectFor(defaults), v.expect)) {
      throw new UsageError(`model ${spec.name}: variant ${v.name} expects ${expectationText(v.expect)}, but its expectFor says ${expectationText(v.expectFor(defaults))} at the defaults`);
    }
    for (const name of declaredViolations(v.expect)) {
      if (!documented.has(name)) throw new UsageError(`model ${spec.name}: variant ${v.name} expects a violation of ${name}, which is not one of its invariants`);
    }
  }
  return spec;
}

/** Failures the engine reports on its own, which a variant may expect without declaring them. */
const ENGINE_FAILURES = ['deadlock', 'step-bound', 'model-error'];

/** The invariants a violation may name for `e` to be met (none for `holds`). */
export function declaredViolations(e: Expectation): readonly string[] {
  return e === 'holds' ? [] : [e.violates, ...(e.or ?? [])];
}

function sameExpectation(a: Expectation, b: Expectation): boolean {
  return JSON.stringify(declaredViolations(a)) === JSON.stringify(declaredViolations(b));
}

/** What `variant` should show at `params` (resolved): its expectFor, or its expect. */
export function expectationOf(variant: VariantSpec, params: Params): Expectation {
  return variant.expectFor ? variant.expectFor(params) : variant.expect;
}

export function variantOf(model: Model, name?: string): VariantSpec {
  if (name === undefined) return model.variants[0]!;
  const v = model.variants.find((x) => x.name === name);
  if (!v) throw new UsageError(`unknown variant "${name}" for model ${model.name} (variants: ${model.variants.map((x) => x.name).join(', ')})`);
  return v;
}

/** Defaults overridden by `given`; unknown names and out-of-range values are usage errors. */
export function resolveParams(model: Model, given: Params = {}): Params {
  const out: Record<string, number> = {};
  for (const [k, p] of Object.entries(model.params)) out[k] = p.default;
  for (const [k, v] of Object.entries(given)) {
    const p = Object.hasOwn(model.params, k) ? model.params[k] : undefined;
    if (!p) {
      const known = Object.keys(model.params);
      throw new UsageError(`unknown parameter "${k}" for model ${model.name} (${known.length ? `parameters: ${known.join(', ')}` : 'it has no parameters'})`);
    }
    if (!Number.isInteger(v) || v < p.min || v > p.max) throw new UsageError(`parameter ${k} must be an integer from ${p.min} to ${p.max}, got ${v}`);
    out[k] = v;
  }
  return out;
}

/** A model with its variant, parameters and step bound chosen: what one search explores. */
export interface BoundModel {
  readonly model: Model;
  /** The variant, its `expect` being what it should show at these parameters. */
  readonly variant: VariantSpec;
  readonly params: Params;
  readonly maxSteps: number;
  /** A fresh program of this configuration (the engine builds one per execution). */
  readonly make: () => Program;
}

/** Binds (model, variant, params, max steps) once, checking each; every caller shares this. */
export function bindModel(model: Model, variant?: string, given?: Params, maxSteps?: number): BoundModel {
  const v = variantOf(model, variant);
  const params = resolveParams(model, given);
  const steps = maxSteps ?? model.maxSteps ?? DEFAULT_MAX_STEPS;
  const bound: VariantSpec = v.expectFor ? { ...v, expect: v.expectFor(params) } : v;
  return { model, variant: bound, params, maxSteps: steps, make: () => model.build(v.name, params) };
}

/** A result shows `e`: a complete search that holds, or a violation of an invariant `e` names. */
export function meetsExpectation(e: Expectation, verdict: string, invariant: string | undefined): boolean {
  if (e === 'holds') return verdict === 'holds';
  return verdict === 'violated' && invariant !== undefined && declaredViolations(e).includes(invariant);
}

/** "holds", "violates deadlock", "violates deadlock or no-conflicting-translations". */
export function expectationText(e: Expectation): string {
  return e === 'holds' ? 'holds' : `violates ${declaredViolations(e).join(' or ')}`;
}
