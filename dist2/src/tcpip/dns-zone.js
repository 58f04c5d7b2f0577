// The zone an authoritative DNS server (dns-server.ts) answers for, from a one-line form
// (a guest's command line has no files): `zone=ORIGIN ttl=SECONDS records=NAME/TYPE/DATA,...`
// with NAME `@` for the origin, relative to it unless it ends in a dot; TYPE one of A, NS,
// CNAME, MX (DATA `PREFERENCE/HOST`) and TXT (DATA percent-encoded: `hello%20world`). The SOA
// is made up from the origin. Everything is checked and bounded: a bad zone fails at boot.
import { TcpipError } from './errors.js';
export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16 };
/** The zone's text is wrong: says where. */
export class ZoneError extends TcpipError {
    name = 'ZoneError';
    constructor(message) { super('EINVAL', message); }
}
const MAX_RECORDS = 256;
const MAX_TTL = 0x7fffffff;
/** A DNS name: letters, digits, '-' and '_' labels of 1..63, at most 253 characters; lower case. */
export function checkName(name) {
    const n = name.toLowerCase();
    if (n.length === 0 || n.length > 253 || n.split('.').some((l) => !/^[a-z0-9_-]{1,63}$/.test(l))) {
        throw new ZoneError(`'${name.slice(0, 80)}' is not a DNS name`);
    }
    return n;
}
/** `name` is `origin` or below it. */
export function within(name, origin) {
    return name === origin || name.endsWith(`.${origin}`);
}
function absolute(name, origin) {
    if (name === '@')
        return origin;
    if (name.endsWith('.'))
        return checkName(name.slice(0, -1));
    return checkName(`${name}.${origin}`);
}
function ipv4(s) {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
    const b = m ? m.slice(1).map(Number) : [];
    if (b.length !== 4 || b.some((x) => x > 255))
        throw new ZoneError(`'${s}' is not an IPv4 address`);
    return Uint8Array.from(b);
}
/** Parse `zone=`, `ttl=` and `records=` out of a command line. */
export function parseZone(cmdline) {
    const opt = (k) => cmdline.split(/\s+/).find((w) => w.startsWith(`${k}=`))?.slice(k.length + 1);
    const originArg = opt('zone');
    if (!originArg)
        throw new ZoneError('no zone= in the command line');
    const origin = checkName(originArg.replace(/\.$/, ''));
    const ttlArg = opt('ttl') ?? '300';
    if (!/^\d{1,10}$/.test(ttlArg) || Number(ttlArg) > MAX_TTL)
        throw new ZoneError(`ttl=${ttlArg.slice(0, 20)} is not a TTL in seconds`);
    const ttl = Number(ttlArg);
    const specs = (opt('records') ?? '').split(',').filter((s) => s !== '');
    if (specs.length > MAX_RECORDS)
        throw new ZoneError(`${specs.length} records: at most ${MAX_RECORDS}`);
    const nodes = new Map();
    const add = (rr) => {
        const list = nodes.get(rr.name) ?? [];
        if (rr.type === TYPE.CNAME ? list.length > 0 : list.some((r) => r.type === TYPE.CNAME)) {
            throw new ZoneError(`${rr.name}: a CNAME cannot share its name with other records (RFC 1034 §3.6.2)`);
        }
        list.push(rr);
        nodes.set(rr.name, list);
    };
    for (const spec of specs) {
        const [owner, type, ...data] = spec.split('/');
        if (!owner || !type)
            throw new ZoneError(`record '${spec.slice(0, 80)}': expected NAME/TYPE/DATA`);
        const name = absolute(owner, origin);
        if (!within(name, origin))
            throw new ZoneError(`record '${spec.slice(0, 80)}': ${name} is outside ${origin}`);
        const t = type.toUpperCase();
        const want = (n) => {
            if (data.length !== n)
                throw new ZoneError(`record '${spec.slice(0, 80)}': ${t} takes ${n} field(s) of data`);
        };
        switch (t) {
            case 'A':
                want(1);
                add({ name, type: TYPE.A, ttl, data: { a: ipv4(data[0]) } });
                break;
            case 'NS':
            case 'CNAME':
                want(1);
                add({ name, type: TYPE[t], ttl, data: { host: absolute(data[0], origin) } });
                break;
            case 'MX': {
                want(2);
                if (!/^\d{1,5}$/.test(data[0]) || Number(data[0]) > 0xffff)
                    throw new ZoneError(`record '${spec.slice(0, 80)}': bad MX preference`);
                add({ name, type: TYPE.MX, ttl, data: { pref: Number(data[0]), host: absolute(data[1], origin) } });
                break;
            }
            case 'TXT': {
                want(1);
                let text;
                try {
                    text = new TextEncoder().encode(decodeURIComponent(data[0]));
                }
                catch {
                    throw new ZoneError(`record '${spec.slice(0, 80)}': bad percent-encoding`);
                }
                if (text.length > 255)
                    throw new ZoneError(`record '${spec.slice(0, 80)}': TXT longer than 255 bytes`);
                add({ name, type: TYPE.TXT, ttl, data: { text } });
                break;
            }
            default: throw new ZoneError(`record '${spec.slice(0, 80)}': type ${t.slice(0, 10)} is not one of A, NS, CNAME, MX, TXT`);
        }
    }
    const ns = nodes.get(origin)?.find((r) => r.type === TYPE.NS)?.data.host ?? `ns.${origin}`;
    const soa = { name: origin, type: TYPE.SOA, ttl, data: { host: ns } };
    return { origin, ttl, soa, nodes };
}
//# sourceMappingURL=dns-zone.js.map