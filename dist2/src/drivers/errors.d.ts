/**
 * The base of one kind of the family `Family`: its name is its kind, so `instanceof`, `name`
 * and `kind` agree.
 */
export declare function ofKind<F extends abstract new (...args: any[]) => Error, K extends string>(Family: F, kind: K): (abstract new (...args: any[]) => {
    name: string;
    readonly kind: K;
    message: string;
    stack?: string;
    cause?: unknown;
}) & F;
