import { RemoteToolstack } from '../toolstack/client.js';
import { resolveStateDir } from '../toolstack/paths.js';
export function withStateDir(cmd) {
    return cmd.option('--state-dir <dir>', "the host's state directory (default: $XENODE_STATE_DIR, else ~/.xenode)");
}
/** Run `fn` against the host daemon of the state dir; HostNotRunning if there is none. */
export async function withHost(opts, fn) {
    const ts = await RemoteToolstack.connect(resolveStateDir(opts.stateDir));
    try {
        return await fn(ts);
    }
    finally {
        ts.close();
    }
}
/** xl prints its progress and notes on stderr, keeping stdout for results and consoles. */
export function say(line) {
    process.stderr.write(`${line}\n`);
}
//# sourceMappingURL=common.js.map