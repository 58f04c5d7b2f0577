/** Chains deeper than this are refused (a loop is caught before; this bounds honest chains). */
export declare const MAX_CHAIN_DEPTH = 30;
export type BackingFormat = 'raw' | 'qcow2';
export declare function backingPath(imagePath: string, name: string): string;
/** qcow2 if the file starts with the qcow2 magic, raw otherwise (what qemu's probe does for these two). */
export declare function probeFormat(path: string): Promise<BackingFormat>;
