function inspect(v, depth = 0) {
    if (typeof v === 'string')
        return depth === 0 ? v : JSON.stringify(v);
    if (typeof v === 'bigint')
        return `${v}n`;
    if (typeof v === 'function')
        return `[Function: ${v.name || '(anonymous)'}]`;
    if (typeof v !== 'object' || v === null)
        return String(v);
    if (v instanceof Error)
        return v.stack ?? `${v.name}: ${v.message}`;
    if (depth > 2)
        return Array.isArray(v) ? '[Array]' : '[Object]';
    if (Array.isArray(v))
        return `[ ${v.map((x) => inspect(x, depth + 1)).join(', ')} ]`;
    if (ArrayBuffer.isView(v))
        return `${v.constructor.name}(${v.length})`;
    const entries = Object.entries(v).map(([k, x]) => `${k}: ${inspect(x, depth + 1)}`);
    return entries.length ? `{ ${entries.join(', ')} }` : '{}';
}
export function format(...args) {
    let i = 0;
    let out = '';
    if (typeof args[0] === 'string') {
        const fmt = args[0];
        i = 1;
        out = fmt.replace(/%[sdifjoO%]/g, (m) => {
            if (m === '%%')
                return '%';
            if (i >= args.length)
                return m;
            const a = args[i++];
            switch (m) {
                case '%d':
                case '%i': return String(m === '%i' ? Math.trunc(Number(a)) : Number(a));
                case '%f': return String(Number(a));
                case '%j': return JSON.stringify(a);
                case '%s': return typeof a === 'string' ? a : inspect(a, 1);
                default: return inspect(a, 1);
            }
        });
    }
    for (; i < args.length; i++)
        out += (out ? ' ' : '') + inspect(args[i]);
    return out;
}
export class Console {
    #out;
    #err;
    constructor(opts) {
        this.#out = opts.stdout;
        this.#err = opts.stderr ?? opts.stdout;
    }
    log(...a) {
        this.#out.write(`${format(...a)}\n`);
    }
    info(...a) {
        this.log(...a);
    }
    debug(...a) {
        this.log(...a);
    }
    error(...a) {
        this.#err.write(`${format(...a)}\n`);
    }
    warn(...a) {
        this.error(...a);
    }
    trace(...a) {
        this.error(new Error(format(...a)).stack);
    }
    dir(v) {
        this.log(inspect(v, 1));
    }
}
//# sourceMappingURL=console.js.map