// The host's audit log of XenAPI: every call that changes something, and every login, as one
// JSON object per line in the state dir (audit.log), with who made it (the session's user and
// where from) and how it ended (ok, or XAPI's error code). Bounded and rotated as the host's log
// is (logfile.ts). Parameters are logged as refs and short strings; passwords never.
import { LogFile } from '../toolstack/logfile.js';
/** A parameter as the log shows it: strings and numbers cut short, structures by their keys. */
export function auditArg(v) {
    if (typeof v === 'string')
        return v.length > 80 ? `${v.slice(0, 80)}...` : v;
    if (typeof v === 'number' || typeof v === 'boolean')
        return String(v);
    if (Array.isArray(v))
        return `[${v.length}]`;
    if (v && typeof v === 'object' && !(v instanceof Date))
        return `{${Object.keys(v).slice(0, 20).join(',')}}`;
    return String(v);
}
export class AuditLog {
    #file;
    constructor(path, limits = {}) {
        this.#file = new LogFile(path, {
            ...limits,
            droppedLine: (n) => JSON.stringify({ time: new Date().toISOString(), dropped: n }),
        });
    }
    record(e) {
        this.#file.append(JSON.stringify({ time: new Date().toISOString(), ...e }));
    }
    flushed() {
        return this.#file.flush();
    }
    close() {
        return this.#file.close();
    }
}
//# sourceMappingURL=audit.js.map