import { DOMID_FIRST_RESERVED } from '../abi/xen.js';
import { XenError } from '../errors.js';
import { SR_TYPES } from './db/records.js';
import { TOKEN_HEX, isToken } from '../migration/wire.js';
/** Operations that may run as tasks: the long ones, which report progress and can be cancelled. */
export const TASK_OPS = ['vdiImport', 'vdiExport', 'vdiMigrate', 'srGc', 'vmSuspend', 'vmResume', 'migrate'];
/** XAPI's roles, most powerful first: each may do everything the ones after it may. */
export const XAPI_ROLES = ['pool-admin', 'pool-operator', 'vm-power-admin', 'vm-admin', 'vm-operator', 'read-only'];
export function isXapiRole(s) {
    return XAPI_ROLES.includes(s);
}
/** An argument a caller got wrong: `field` names it (EINVAL on the wire). */
export class InvalidArgument extends XenError {
    op;
    field;
    name = 'InvalidArgument';
    constructor(op, field, detail) {
        super('EINVAL', `${op}: ${detail}`);
        this.op = op;
        this.field = field;
    }
}
/** Reads one operation's arguments, refusing wrong types and unknown keys. */
export class Fields {
    op;
    #seen = new Set();
    #raw;
    constructor(op, raw) {
        this.op = op;
        if (raw === undefined)
            raw = {};
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
            throw new InvalidArgument(op, null, 'arguments must be an object');
        this.#raw = raw;
    }
    #get(key) {
        this.#seen.add(key);
        return Object.hasOwn(this.#raw, key) ? this.#raw[key] : undefined;
    }
    #fail(key, want) {
        return new InvalidArgument(this.op, key, `${key} must be ${want}`);
    }
    string(key) {
        const v = this.#get(key);
        if (typeof v !== 'string' || v === '')
            throw this.#fail(key, 'a non-empty string');
        return v;
    }
    optionalString(key) {
        const v = this.#get(key);
        if (v !== undefined && typeof v !== 'string')
            throw this.#fail(key, 'a string');
        return v;
    }
    /** An optional flag: absent reads as false. */
    bool(key) {
        const v = this.#get(key);
        if (v !== undefined && typeof v !== 'boolean')
            throw this.#fail(key, 'true or false');
        return v === true;
    }
    optionalInteger(key, min, max) {
        const v = this.#get(key);
        if (v !== undefined && !(Number.isInteger(v) && v >= min && v <= max))
            throw this.#fail(key, `an integer in ${min}..${max}`);
        return v;
    }
    domain(key = 'domain') {
        const v = this.#get(key);
        if (!isDomainRef(v))
            throw this.#fail(key, 'a domain name or id');
        return v;
    }
    optionalDomain(key = 'domain') {
        const v = this.#get(key);
        if (v !== undefined && !isDomainRef(v))
            throw this.#fail(key, 'a domain name or id');
        return v;
    }
    domains(key) {
        const v = this.#get(key);
        if (v === undefined)
            return undefined;
        if (!Array.isArray(v) || !v.every(isDomainRef))
            throw this.#fail(key, 'a list of domain names or ids');
        return v;
    }
    /** An operation to run as a task: {op, args}, the op one of TASK_OPS, its args decoded as that op's. */
    taskCall(key) {
        const v = this.#get(key);
        if (typeof v !== 'object' || v === null || Array.isArray(v))
            throw this.#fail(key, 'an object {op, args}');
        const { op, args, ...rest } = v;
        if (Object.keys(rest).length)
            throw this.#fail(key, 'an object with only op and args');
        if (typeof op !== 'string' || !TASK_OPS.includes(op))
            throw this.#fail(key, `{op, args} with op one of ${TASK_OPS.join(', ')}`);
        const k = op;
        try {
            return { op: k, args: COMMAND_ARGS[k](new Fields(k, args)) };
        }
        catch (e) {
            throw new InvalidArgument(this.op, key, `${key}.args of ${k}: ${e.message.replace(/^EINVAL: /, '')}`);
        }
    }
    /** Call last: an argument nobody asked for is a mistake of the caller's. */
    done(value) {
        const extra = Object.keys(this.#raw).filter((k) => !this.#seen.has(k));
        if (extra.length)
            throw new InvalidArgument(this.op, extra[0], `unknown argument ${extra.map((k) => `'${k}'`).join(', ')}`);
        return value;
    }
}
export function isDomainRef(v) {
    return (typeof v === 'string' && v !== '' && v.length <= 256) || (Number.isInteger(v) && v >= 0 && v < DOMID_FIRST_RESERVED);
}
const domainOnly = (f) => f.done({ domain: f.domain() });
const none = (f) => f.done({});
/** Each operation's decoder: the one place where raw arguments become typed ones. */
export const COMMAND_ARGS = {
    create: (f) => {
        const file = f.string('file');
        if (!file.startsWith('/'))
            throw new InvalidArgument('create', 'file', `the configuration file must be an absolute path, not '${file}'`);
        const text = f.optionalString('text');
        return f.done({ file, ...(text !== undefined && { text }), paused: f.bool('paused') });
    },
    list: (f) => {
        const domains = f.domains('domains');
        return f.done({ ...(domains && { domains }), long: f.bool('long') });
    },
    lookup: domainOnly,
    destroy: domainOnly,
    shutdown: (f) => f.done({ domain: f.domain(), reboot: f.bool('reboot') }),
    pause: domainOnly,
    hardReboot: domainOnly,
    unpause: domainOnly,
    rename: (f) => f.done({ domain: f.domain(), name: f.string('name') }),
    blockAttach: (f) => f.done({ domain: f.domain(), spec: f.string('spec') }),
    blockDetach: (f) => f.done({ domain: f.domain(), vdev: f.string('vdev'), force: f.bool('force') }),
    blockList: domainOnly,
    networkAttach: (f) => f.done({ domain: f.domain(), spec: f.optionalString('spec') ?? '' }),
    networkDetach: (f) => f.done({ domain: f.domain(), vif: f.string('vif'), force: f.bool('force') }),
    networkList: domainOnly,
    networkForward: (f) => f.done({ domain: f.domain(), spec: f.string('spec'), remove: f.bool('remove') }),
    networkForwardList: (f) => {
        const domain = f.optionalDomain();
        return f.done(domain === undefined ? {} : { domain });
    },
    consoleLog: domainOnly,
    info: none,
    dmesg: (f) => f.done({ clear: f.bool('clear') }),
    stop: none,
    userAdd: (f) => {
        const name = f.string('name');
        if (!/^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/.test(name))
            throw new InvalidArgument('userAdd', 'name', `a user name is 1-64 letters, digits, '_', '.', '@' or '-', not '${name.slice(0, 80)}'`);
        const role = f.string('role');
        if (!isXapiRole(role))
            throw new InvalidArgument('userAdd', 'role', `role must be one of ${XAPI_ROLES.join(', ')}`);
        const password = f.string('password');
        if (password.length > 1024)
            throw new InvalidArgument('userAdd', 'password', 'a password is at most 1024 characters');
        return f.done({ name, role, password });
    },
    bridgeList: none,
    capture: (f) => {
        const target = f.string('target');
        const file = f.string('file');
        if (!file.startsWith('/'))
            throw new InvalidArgument('capture', 'file', `the capture file must be an absolute path, not '${file}'`);
        const count = f.optionalInteger('count', 1, Number.MAX_SAFE_INTEGER);
        const snaplen = f.optionalInteger('snaplen', 1, 262_144);
        const maxBytes = f.optionalInteger('maxBytes', 24, 2 ** 32);
        return f.done({ target, file, ...(count !== undefined && { count }), ...(snaplen !== undefined && { snaplen }), ...(maxBytes !== undefined && { maxBytes }) });
    },
    captureStop: (f) => f.done({ file: f.string('file') }),
    bridgeLink: (f) => {
        const bridge = f.string('bridge');
        const remote = f.string('remote');
        const local = f.optionalString('local');
        const vni = f.optionalInteger('vni', 0, 0xff_ffff);
        return f.done({ bridge, remote, ...(local !== undefined && { local }), ...(vni !== undefined && { vni }) });
    },
    bridgeUnlink: (f) => f.done({ bridge: f.string('bridge'), remote: f.string('remote') }),
    srList: none,
    srCreate: (f) => {
        const name = f.string('name');
        const type = f.string('type');
        if (!SR_TYPES.includes(type))
            throw new InvalidArgument('srCreate', 'type', `type must be one of ${SR_TYPES.join(', ')}, not '${type}'`);
        const path = f.optionalString('path');
        const description = f.optionalString('description');
        return f.done({ name, type: type, ...(path !== undefined && { path }), ...(description !== undefined && { description }) });
    },
    srScan: (f) => f.done({ sr: f.string('sr') }),
    vdiCreate: (f) => {
        const args = { sr: f.string('sr'), name: f.string('name'), size: f.string('size') };
        const format = f.optionalString('format');
        const description = f.optionalString('description');
        return f.done({ ...args, ...(format !== undefined && { format }), ...(description !== undefined && { description }) });
    },
    vdiList: (f) => {
        const sr = f.optionalString('sr');
        return f.done(sr === undefined ? {} : { sr });
    },
    vdiDestroy: (f) => f.done({ vdi: f.string('vdi') }),
    vdiResize: (f) => f.done({ vdi: f.string('vdi'), size: f.string('size') }),
    vdiImport: (f) => {
        const args = { sr: f.string('sr'), file: f.string('file') };
        const name = f.optionalString('name');
        const format = f.optionalString('format');
        const description = f.optionalString('description');
        return f.done({ ...args, ...(name !== undefined && { name }), ...(format !== undefined && { format }), ...(description !== undefined && { description }) });
    },
    vdiExport: (f) => f.done({ vdi: f.string('vdi'), file: f.string('file'), format: f.string('format') }),
    vdiSnapshot: (f) => {
        const args = { vdi: f.string('vdi'), name: f.string('name'), clone: f.bool('clone') };
        const description = f.optionalString('description');
        return f.done({ ...args, ...(description !== undefined && { description }) });
    },
    vdiMigrate: (f) => f.done({ vdi: f.string('vdi'), sr: f.string('sr') }),
    srGc: (f) => f.done({ sr: f.string('sr') }),
    taskSubmit: (f) => f.done({ call: f.taskCall('call') }),
    taskGet: (f) => f.done({ task: f.string('task') }),
    taskList: none,
    taskCancel: (f) => f.done({ task: f.string('task') }),
    save: (f) => {
        const domain = f.domain();
        const file = absoluteFile(f.string('file'), 'save');
        const timeoutMs = f.optionalInteger('timeoutMs', 1, 3_600_000);
        return f.done({ domain, file, checkpoint: f.bool('checkpoint'), paused: f.bool('paused'), ...(timeoutMs !== undefined && { timeoutMs }) });
    },
    restore: (f) => f.done({ file: absoluteFile(f.string('file'), 'restore'), paused: f.bool('paused') }),
    migrate: (f) => {
        const domain = f.domain();
        const target = f.string('target');
        const token = f.string('token');
        if (!isToken(token))
            throw new InvalidArgument('migrate', 'token', `a migration token is ${TOKEN_HEX} lowercase hex digits (the destination's migration-token file)`);
        const maxRounds = f.optionalInteger('maxRounds', 1, 100);
        const dirtyThreshold = f.optionalInteger('dirtyThreshold', 0, 1 << 20);
        return f.done({ domain, target, token, ...(maxRounds !== undefined && { maxRounds }), ...(dirtyThreshold !== undefined && { dirtyThreshold }) });
    },
    cpupoolCreate: (f) => {
        const name = f.string('name');
        const cpus = f.optionalInteger('cpus', 1, 64);
        if (cpus === undefined)
            throw new InvalidArgument('cpupoolCreate', 'cpus', 'cpus must be given: the number of pCPU threads, 1..64');
        const sched = f.optionalString('sched');
        if (sched !== undefined && sched !== 'credit')
            throw new InvalidArgument('cpupoolCreate', 'sched', `sched must be credit (the one scheduler here), not '${sched.slice(0, 40)}'`);
        return f.done({ name, cpus, ...(sched !== undefined && { sched }) });
    },
    cpupoolList: none,
    cpupoolDestroy: (f) => f.done({ name: f.string('name') }),
    cpupoolMigrate: (f) => f.done({ domain: f.domain(), pool: f.string('pool') }),
    vmImport: (f) => {
        const file = f.string('file');
        if (!file.startsWith('/'))
            throw new InvalidArgument('vmImport', 'file', `the configuration file must be an absolute path, not '${file}'`);
        const text = f.optionalString('text');
        const description = f.optionalString('description');
        return f.done({ file, ...(text !== undefined && { text }), ...(description !== undefined && { description }) });
    },
    vmStart: (f) => f.done({ vm: f.string('vm'), paused: f.bool('paused') }),
    vmList: none,
    vmSuspend: (f) => f.done({ vm: f.string('vm') }),
    vmResume: (f) => {
        const vm = f.string('vm');
        const paused = f.bool('paused');
        const discard = f.bool('discard');
        if (paused && discard)
            throw new InvalidArgument('vmResume', 'discard', 'discard halts the VM: it cannot also be resumed paused');
        return f.done({ vm, ...(paused && { paused }), ...(discard && { discard }) });
    },
    vmUninstall: (f) => f.done({ vm: f.string('vm') }),
    vmDevice: (f) => {
        const vm = f.string('vm');
        const changes = {
            disk: f.optionalString('disk'), vif: f.optionalString('vif'), removeDisk: f.optionalString('removeDisk'), removeVif: f.optionalString('removeVif'),
            plugDisk: f.optionalString('plugDisk'), unplugDisk: f.optionalString('unplugDisk'), plugVif: f.optionalString('plugVif'), unplugVif: f.optionalString('unplugVif'),
        };
        const given = Object.entries(changes).filter(([, v]) => v !== undefined);
        if (given.length !== 1)
            throw new InvalidArgument('vmDevice', 'disk', `give exactly one of ${Object.keys(changes).join(', ')}`);
        const force = f.bool('force');
        return f.done({ vm, [given[0][0]]: given[0][1], ...(force && { force }) });
    },
    networkCreate: (f) => {
        const name = f.string('name');
        const bridge = f.optionalString('bridge');
        const description = f.optionalString('description');
        return f.done({ name, ...(bridge !== undefined && { bridge }), ...(description !== undefined && { description }) });
    },
    vmSet: (f) => {
        const vm = f.string('vm');
        const name = f.optionalString('name');
        const description = f.optionalString('description');
        const memory = f.optionalInteger('memory', 1, 2 ** 20);
        const maxmem = f.optionalInteger('maxmem', 1, 2 ** 20);
        const otherConfigKey = f.optionalString('otherConfigKey');
        const otherConfigValue = f.optionalString('otherConfigValue');
        if (otherConfigValue !== undefined && otherConfigKey === undefined)
            throw new InvalidArgument('vmSet', 'otherConfigKey', 'otherConfigKey must name the key otherConfigValue is for');
        return f.done({
            vm, ...(name !== undefined && { name }), ...(description !== undefined && { description }), ...(memory !== undefined && { memory }),
            ...(maxmem !== undefined && { maxmem }), ...(otherConfigKey !== undefined && { otherConfigKey }), ...(otherConfigValue !== undefined && { otherConfigValue }),
        });
    },
};
function absoluteFile(file, op) {
    if (!file.startsWith('/'))
        throw new InvalidArgument(op, 'file', `the save file must be an absolute path, not '${file}'`);
    return file;
}
export const STREAM_ARGS = {
    console: (f) => f.done({ domain: f.domain(), replay: f.bool('replay') }),
    events: none,
};
const OPS = Object.keys(COMMAND_ARGS);
/** A request's operation and raw arguments, validated: ENOSYS for an unknown op, InvalidArgument for bad arguments. */
export function decodeRequest(op, raw) {
    if (Object.hasOwn(COMMAND_ARGS, op)) {
        const k = op;
        return { kind: 'call', op: k, args: COMMAND_ARGS[k](new Fields(k, raw)) };
    }
    if (Object.hasOwn(STREAM_ARGS, op)) {
        const k = op;
        return { kind: 'stream', op: k, args: STREAM_ARGS[k](new Fields(k, raw)) };
    }
    throw new XenError('ENOSYS', `unknown operation '${op}' (known: ${[...OPS, ...Object.keys(STREAM_ARGS)].join(', ')})`);
}
//# sourceMappingURL=contract.js.map