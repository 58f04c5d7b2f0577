const apply = Reflect.apply;
const defineGlobal = (name, value) => {
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
};
/** A host function, callable from the realm; a host error never reaches realm code, only this. */
function wrap(fn, name) {
    return (...a) => {
        try {
            return apply(fn, undefined, a);
        }
        catch {
            throw new TypeError(`${name}: refused by the pCPU`);
        }
    };
}
export const host = {
    now: wrap(__host.now, 'now'),
    hrtime: wrap(__host.hrtime, 'hrtime'),
    timerSet: wrap(__host.timerSet, 'timerSet'),
    timerClear: wrap(__host.timerClear, 'timerClear'),
    immediate: wrap(__host.immediate, 'immediate'),
    control: wrap(__host.control, 'control'),
    decode: wrap(__host.decode, 'decode'),
    random: wrap(__host.random, 'random'),
    crc32: wrap(__host.crc32, 'crc32'),
    mainCalled: wrap(__host.mainCalled, 'mainCalled'),
    halt: wrap(__host.halt, 'halt'),
};
// ---------------- uncaught errors ----------------
let uncaught = () => { };
/** Where errors of callbacks that nothing else catches go (the boot's crash). */
export function onUncaught(fn) {
    uncaught = fn;
}
function guarded(fn, args) {
    try {
        apply(fn, undefined, args);
    }
    catch (e) {
        uncaught(e);
    }
}
const timers = new Map();
let nextTimer = 1;
const TIMER_ID = Symbol('timer id');
class Timeout {
    [TIMER_ID];
    constructor(id) {
        this[TIMER_ID] = id;
    }
    ref() {
        return this;
    }
    unref() {
        return this;
    }
    hasRef() {
        return true;
    }
    refresh() {
        const t = timers.get(this[TIMER_ID]);
        if (t)
            host.timerSet(this[TIMER_ID], t.ms);
        return this;
    }
    close() {
        clearTimer(this);
    }
    [Symbol.toPrimitive]() {
        return this[TIMER_ID];
    }
}
function timerMs(ms) {
    const n = Number(ms);
    return Number.isFinite(n) && n >= 1 ? Math.min(n, 2 ** 31 - 1) : 1;
}
function addTimer(fn, ms, args, repeat) {
    if (typeof fn !== 'function')
        throw new TypeError('the callback must be a function');
    const id = nextTimer++;
    const t = { fn: fn, args, ms: timerMs(ms), repeat };
    timers.set(id, t);
    host.timerSet(id, t.ms);
    return new Timeout(id);
}
function clearTimer(t) {
    const id = t instanceof Timeout ? t[TIMER_ID] : typeof t === 'number' ? t : undefined;
    if (id === undefined || !timers.delete(id))
        return;
    host.timerClear(id);
}
/** The pCPU's turn: timer `id` is due. */
export function fireTimer(id) {
    const t = timers.get(id);
    if (!t)
        return;
    if (t.repeat)
        host.timerSet(id, t.ms);
    else
        timers.delete(id);
    guarded(t.fn, t.args);
}
let immediates = new Set();
/** The pCPU's turn: run the setImmediate callbacks queued before it (later ones wait for the next turn). */
export function runImmediates() {
    const batch = immediates;
    if (batch.size === 0)
        return;
    immediates = new Set();
    for (const im of batch)
        guarded(im.fn, im.args);
}
defineGlobal('setTimeout', (fn, ms, ...args) => addTimer(fn, ms, args, false));
defineGlobal('setInterval', (fn, ms, ...args) => addTimer(fn, ms, args, true));
defineGlobal('clearTimeout', clearTimer);
defineGlobal('clearInterval', clearTimer);
defineGlobal('setImmediate', (fn, ...args) => {
    if (typeof fn !== 'function')
        throw new TypeError('the callback must be a function');
    const im = { fn: fn, args };
    if (immediates.size === 0)
        host.immediate();
    immediates.add(im);
    return im;
});
defineGlobal('clearImmediate', (im) => void immediates.delete(im));
defineGlobal('queueMicrotask', (fn) => {
    if (typeof fn !== 'function')
        throw new TypeError('the callback must be a function');
    void Promise.resolve().then(() => guarded(fn, []));
});
// ---------------- clocks, randomness ----------------
const timeOrigin = Date.now() - host.now();
defineGlobal('performance', Object.freeze({ now: () => host.now(), timeOrigin }));
defineGlobal('process', {
    hrtime: Object.assign(() => {
        const ns = host.hrtime();
        return [Number(ns / 1000000000n), Number(ns % 1000000000n)];
    }, { bigint: () => host.hrtime() }),
    nextTick: (fn, ...args) => void Promise.resolve().then(() => guarded(fn, args)),
    env: {},
    argv: [],
    platform: 'xenode',
});
defineGlobal('crypto', Object.freeze({
    getRandomValues(a) {
        if (!ArrayBuffer.isView(a) || a instanceof Float32Array || a instanceof Float64Array)
            throw new TypeError('getRandomValues needs an integer typed array');
        if (a.byteLength > 65536)
            throw new RangeError('getRandomValues: at most 65536 bytes');
        host.random(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
        return a;
    },
}));
// ---------------- text ----------------
class RealmTextEncoder {
    encoding = 'utf-8';
    encode(input = '') {
        const s = String(input);
        const out = new Uint8Array(s.length * 3);
        return out.slice(0, this.encodeInto(s, out).written);
    }
    encodeInto(input, dest) {
        const s = String(input);
        let w = 0;
        let r = 0;
        for (; r < s.length; r++) {
            let c = s.charCodeAt(r);
            let units = 1;
            if (c >= 0xd800 && c <= 0xdbff && r + 1 < s.length) {
                const d = s.charCodeAt(r + 1);
                if (d >= 0xdc00 && d <= 0xdfff) {
                    c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
                    units = 2;
                }
            }
            if (c >= 0xd800 && c <= 0xdfff)
                c = 0xfffd; // lone surrogate
            const need = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
            if (w + need > dest.length)
                break;
            if (need === 1)
                dest[w++] = c;
            else if (need === 2) {
                dest[w++] = 0xc0 | (c >> 6);
                dest[w++] = 0x80 | (c & 63);
            }
            else if (need === 3) {
                dest[w++] = 0xe0 | (c >> 12);
                dest[w++] = 0x80 | ((c >> 6) & 63);
                dest[w++] = 0x80 | (c & 63);
            }
            else {
                dest[w++] = 0xf0 | (c >> 18);
                dest[w++] = 0x80 | ((c >> 12) & 63);
                dest[w++] = 0x80 | ((c >> 6) & 63);
                dest[w++] = 0x80 | (c & 63);
            }
            r += units - 1;
        }
        return { read: r, written: w };
    }
}
class RealmTextDecoder {
    encoding = 'utf-8';
    fatal;
    constructor(label = 'utf-8', opts = {}) {
        if (!/^utf-?8$/i.test(String(label)))
            throw new RangeError(`TextDecoder: only utf-8 here, not ${String(label)}`);
        this.fatal = opts.fatal === true;
    }
    decode(input) {
        if (input === undefined)
            return '';
        const bytes = ArrayBuffer.isView(input) ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength) : new Uint8Array(input);
        return host.decode(bytes, this.fatal);
    }
}
defineGlobal('TextEncoder', RealmTextEncoder);
defineGlobal('TextDecoder', RealmTextDecoder);
class RealmAbortSignal {
    aborted = false;
    reason = undefined;
    onabort = null;
    #listeners = [];
    addEventListener(type, fn, opts) {
        if (type === 'abort')
            this.#listeners.push({ fn, once: opts?.once === true });
    }
    removeEventListener(type, fn) {
        if (type === 'abort')
            this.#listeners = this.#listeners.filter((l) => l.fn !== fn);
    }
    throwIfAborted() {
        if (this.aborted)
            throw this.reason;
    }
    /** @internal */
    fire(reason) {
        if (this.aborted)
            return;
        this.aborted = true;
        this.reason = reason;
        const ls = this.#listeners;
        this.#listeners = ls.filter((l) => !l.once);
        const ev = { type: 'abort' };
        if (this.onabort)
            guarded(this.onabort, [ev]);
        for (const l of ls)
            guarded(l.fn, [ev]);
    }
    static abort(reason) {
        const s = new RealmAbortSignal();
        s.fire(reason ?? abortError());
        return s;
    }
}
function abortError() {
    const e = new Error('This operation was aborted');
    e.name = 'AbortError';
    return e;
}
class RealmAbortController {
    signal = new RealmAbortSignal();
    abort(reason) {
        this.signal.fire(reason ?? abortError());
    }
}
defineGlobal('AbortSignal', RealmAbortSignal);
defineGlobal('AbortController', RealmAbortController);
//# sourceMappingURL=globals.js.map