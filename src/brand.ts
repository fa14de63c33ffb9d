// `instanceof` across copies of mmcheck. A model file loaded through tsx gets its own copy of
// mmcheck's modules, so an `assume` or an error thrown by the model's copy is of another class
// than the engine's. Each class that crosses that line carries a registered symbol, and its
// `instanceof` checks the symbol instead of the prototype chain.

/** The symbol marking instances of the class registered under `name`. */
export function brand(name: string): symbol {
  return Symbol.for(`mmcheck.${name}`);
}

/** True when `x` carries the brand `b`. */
export function hasBrand(x: unknown, b: symbol): boolean {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[b] === true;
}
