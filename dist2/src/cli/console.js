/** Ctrl-]: the byte xl console (and telnet) detach on. */
const DETACH_BYTE = 0x1d;
/** This terminal's input, sent to whichever console session is current, until Ctrl-]. */
export class Keyboard {
    #session = null;
    #raw;
    #detach;
    /** Resolves when the user detaches. */
    detached = new Promise((resolve) => (this.#detach = resolve));
    #onData = (chunk) => {
        const at = chunk.indexOf(DETACH_BYTE);
        const data = at < 0 ? chunk : chunk.subarray(0, at);
        if (data.length)
            this.#session?.write(data);
        if (at >= 0)
            this.#detach();
    };
    constructor() {
        const stdin = process.stdin;
        // Raw, so keys (Ctrl-C included) reach the guest as bytes, as with a pty.
        this.#raw = stdin.isTTY === true;
        if (this.#raw)
            stdin.setRawMode(true);
        stdin.on('data', this.#onData);
        stdin.resume();
    }
    forwardTo(session) {
        this.#session = session;
    }
    close() {
        process.stdin.off('data', this.#onData);
        if (this.#raw)
            process.stdin.setRawMode(false);
        process.stdin.pause();
    }
}
/** Attach to a domain's console; its output goes to stdout. */
export async function view(ts, domain, opts = {}) {
    let end;
    const ended = new Promise((resolve) => (end = resolve));
    const session = await ts.console(domain, { onOutput: (data) => void process.stdout.write(data), onEnd: () => end() }, opts);
    return { session, ended };
}
/** `xenode console DOMAIN`: view and type until Ctrl-] or until the domain goes. */
export async function interactiveConsole(ts, domain) {
    const v = await view(ts, domain);
    const kb = new Keyboard();
    kb.forwardTo(v.session);
    try {
        await Promise.race([v.ended, kb.detached]);
    }
    finally {
        v.session.close();
        kb.close();
    }
}
//# sourceMappingURL=console.js.map