// Numbers in request payloads are parsed the way the C daemon parses them (atoi, strtol), so
// replies to odd input match cxenstored's byte for byte.
const SPACE = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);
const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN = -LONG_MAX - 1n;
/** strtol(s, &end, base) for base 0 or 10: the value as a 32-bit int (what the daemon stores) and `end`. */
function strtol(s, base0) {
    let i = 0;
    while (i < s.length && SPACE.has(s.charCodeAt(i)))
        i++;
    let neg = false;
    if (s[i] === '+' || s[i] === '-')
        neg = s[i++] === '-';
    let radix = 10n;
    if (base0 && s[i] === '0') {
        if ((s[i + 1] === 'x' || s[i + 1] === 'X') && /[0-9a-fA-F]/.test(s[i + 2] ?? '')) {
            radix = 16n;
            i += 2;
        }
        else {
            radix = 8n;
        }
    }
    const start = i;
    let v = 0n;
    for (; i < s.length; i++) {
        const d = parseInt(s[i], 16);
        if (Number.isNaN(d) || BigInt(d) >= radix)
            break;
        if (v <= LONG_MAX)
            v = v * radix + BigInt(d);
    }
    if (i === start)
        return { value: 0, end: 0 };
    const signed = neg ? -v : v;
    // strtol saturates at the limits of a 64-bit long; the int the daemon keeps is the low 32 bits.
    const clamped = signed > LONG_MAX ? LONG_MAX : signed < LONG_MIN ? LONG_MIN : signed;
    return { value: Number(BigInt.asIntN(32, clamped)), end: i };
}
/** C atoi: leading number, 0 if none, as a 32-bit int. */
export function atoi(s) {
    return strtol(s, false).value;
}
/** strtol(s, &end, 0) that must consume all of a non-empty `s` (libxenstore's permission ids). */
export function strtolWhole(s) {
    const { value, end } = strtol(s, true);
    return end === 0 || end !== s.length ? undefined : value;
}
//# sourceMappingURL=cnum.js.map