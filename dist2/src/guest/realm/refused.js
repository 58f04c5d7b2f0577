// What a domain on a shared pCPU does not get. Node's own modules are objects of the host
// thread's realm, and many carry the thread's authority (its files, threads, process): the
// realm's image links none of them (bin/link.js makes each a stand-in that throws on use), and
// the library OS links the few it needs against realm copies (console.ts, stream.ts, buffer).
export class RealmUnsupported extends Error {
    name = 'RealmUnsupported';
    constructor(what) {
        super(`${what} is not available to a domain in a shared cpupool; run it in Pool-0`);
    }
}
//# sourceMappingURL=refused.js.map