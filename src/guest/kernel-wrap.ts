// How a kernel image linked as a script (a CommonJS module body, toolstack/kernel.ts) is made a
// function to run: the toolstack, a vCPU thread and a pCPU thread all wrap it alike. Kept apart
// from image.ts: its paths resolve from dist/src/guest/, and the guest runtime must not link it.

/**
 * A kernel image linked as a script runs as this function of its module's exports, require and
 * module. The prefix shares the image's first line, so its stack frames keep their line numbers
 * (guest/kernel-script.ts maps them back). Strict, as the ES module it was written as would run:
 * esbuild's CommonJS output of an ES module does not say "use strict" itself.
 */
export const KERNEL_SCRIPT_PREFIX = "(function (exports, require, module) {'use strict';";
export const wrapKernelScript = (code: string): string => `${KERNEL_SCRIPT_PREFIX}${code}\n})`;
