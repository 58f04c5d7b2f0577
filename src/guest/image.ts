// Where the library OS image lives. The build links src/guest/bootstrap and everything it
// uses into one script, dist/guest.runtime.cjs (bin/link.js): a vCPU thread starts from
// dist/guest.cjs, which compiles it from V8's code cache, and guest kernels that import
// 'xenode' link against dist/guest.mjs, which exports that very instance, so a guest and its
// runtime share one copy of every class.
export const GUEST_IMAGE = new URL('../../guest.cjs', import.meta.url);
export const LIBRARY_IMAGE = new URL('../../guest.mjs', import.meta.url);

// A shared cpupool's pCPU thread runs guest/pcpu.js, and its realms the library OS linked once
// more as a script (dist/realm.js). Both paths hold from the linked CLI too (bin/link.js).
export const PCPU_IMAGE = new URL('../../src/guest/pcpu.js', import.meta.url);
export const REALM_IMAGE = new URL('../../realm.js', import.meta.url);

/**
 * A kernel image linked as a script (a CommonJS module body, toolstack/kernel.ts) runs as this
 * function of its module's exports, require and module. The prefix shares the image's first
 * line, so its stack frames keep their line numbers (guest/kernel-script.ts maps them back).
 * Strict, as the ES module it was written as would run: esbuild's CommonJS output of an ES
 * module does not say "use strict" itself.
 */
export const KERNEL_SCRIPT_PREFIX = "(function (exports, require, module) {'use strict';";
export const wrapKernelScript = (code: string): string => `${KERNEL_SCRIPT_PREFIX}${code}\n})`;
