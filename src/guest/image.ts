// Where the library OS image lives. The build links src/guest/bootstrap and everything it
// uses into one script, dist/guest.runtime.cjs (bin/link.js): a vCPU thread starts from
// dist/guest.cjs, which compiles it from V8's code cache, and guest kernels that import
// 'xenode' link against dist/guest.mjs, which exports that very instance, so a guest and its
// runtime share one copy of every class. The paths resolve from dist/src/guest/ (and from the
// linked CLI, at the same depth): the guest runtime, linked into dist/, must not import this.
export const GUEST_IMAGE = new URL('../../guest.cjs', import.meta.url);
export const LIBRARY_IMAGE = new URL('../../guest.mjs', import.meta.url);

// A shared cpupool's pCPU thread runs guest/pcpu.js, and its realms the library OS linked once
// more as a script (dist/realm.js). Both paths hold from the linked CLI too (bin/link.js).
export const PCPU_IMAGE = new URL('../../src/guest/pcpu.js', import.meta.url);
export const REALM_IMAGE = new URL('../../realm.js', import.meta.url);
