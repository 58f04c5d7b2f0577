// Counter fields that V8 keeps as doubles from the first: a count past 2^31 changes no hidden class.

/**
 * What a counter field is given in its object literal: the double -0. V8 keeps a field first
 * given a small integer as one, and the counter's first value past 2^31 (2 GiB through a vif or a
 * switch port) would change the object's hidden class and throw away every optimized function
 * that saw it, the data path mid-stream; a field made a double stays one (tcpip's SEQ_INIT too).
 */
export const DOUBLE_ZERO = -0;

/** `o`, its `keys` (given DOUBLE_ZERO in its literal) set to 0: still double fields, reading +0 (-0 would show in util.inspect and strict comparisons). */
export function zeroDoubles<T extends object>(o: T, ...keys: (keyof T)[]): T {
  for (const k of keys) o[k] = 0 as T[keyof T];
  return o;
}
