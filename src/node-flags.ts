// Node's heap-size flags (V8's): dom0 keeps them to itself (cli/heap-flags.ts), and they are
// among the compile flags a kernel's code cache is made under (toolstack/kernel-cache.ts).
export const HEAP_SIZE_FLAGS = ['max-semi-space-size', 'min-semi-space-size', 'max-old-space-size', 'max-heap-size', 'initial-heap-size', 'initial-old-space-size'] as const;
