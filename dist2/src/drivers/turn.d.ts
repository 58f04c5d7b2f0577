/** A function that runs `fn` once, in a microtask, however often it is called before then. */
export declare function oncePerTurn(fn: () => void): () => void;
