// Objects the library OS hands its own code, kept from the guest's prototype getters. In a realm
// (realm.ts) the guest shares the library OS's intrinsics: a getter it defines on
// Object.prototype runs for every property an object of the library lacks, with that object as
// `this`, and a global function it replaces is handed whatever the library passes it. So the
// intrinsics used here are read once, when the image is evaluated (before any guest code runs),
// and an object whose optional members are looked for has no prototype to look them up on.
const setPrototypeOf = Object.setPrototypeOf;
const hasOwn = Object.hasOwn;

/** `o`, with no prototype: a member it lacks reads as undefined, running no getter. */
export function bare<T extends object>(o: T): T {
  return setPrototypeOf(o, null) as T;
}

/** `o[key]` if `o` holds it itself, else undefined: nothing on its prototype chain runs. */
export function own<T extends object, K extends keyof T>(o: T, key: K): T[K] | undefined {
  return hasOwn(o, key) ? o[key] : undefined;
}
