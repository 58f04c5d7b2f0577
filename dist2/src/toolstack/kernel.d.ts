/** The kernel could not be built into an image. */
export declare class KernelError extends Error {
    readonly kernel: string;
    name: string;
    constructor(kernel: string, detail: string);
}
/** One source file of a kernel; a guest program is far smaller. */
export declare const MAX_SOURCE_BYTES: number;
/** All the sources of one kernel together. */
export declare const MAX_KERNEL_SOURCE_BYTES: number;
/** A build that takes longer is cancelled. */
export declare const KERNEL_BUILD_TIMEOUT_MS = 60000;
/** Where a kernel image runs: a vCPU thread of its own (an ES module) or a realm. */
export type KernelTarget = 'module' | 'realm';
/** Build (or reuse) the image of `kernelPath`; returns its file URL. */
export declare function kernelImage(kernelPath: string, target?: KernelTarget): Promise<string>;
