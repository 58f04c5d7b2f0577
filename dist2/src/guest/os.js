// The `os` object a guest program's main(os) receives: what a Mirage unikernel gets from its
// platform (DESIGN.md §4).
import { Console } from 'node:console';
import { Writable } from 'node:stream';
/** A node Console whose output goes through the PV console. */
export function pvConsole(front) {
    const sink = new Writable({
        write(chunk, _enc, done) {
            front.write(chunk);
            done();
        },
    });
    const c = new Console({ stdout: sink, stderr: sink });
    return {
        console: c,
        consoleApi: {
            write: (data) => front.write(data),
            log: (...args) => c.log(...args),
            flush: () => front.flush(),
            onInput: (h) => front.onInput(h),
        },
    };
}
//# sourceMappingURL=os.js.map