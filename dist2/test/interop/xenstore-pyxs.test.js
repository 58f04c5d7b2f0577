// Debian's python3-pyxs (a pure-Python xenstore client) against our xenstored's socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startDaemon } from '../support/xenstore.js';
const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
async function pyxsMissing() {
    try {
        await run(PYTHON, ['-c', 'import pyxs'], { timeout: 10_000 });
        return false;
    }
    catch {
        return 'python3-pyxs not installed (apt-get install python3-pyxs)';
    }
}
const skip = await pyxsMissing();
if (skip)
    console.log(`# skipping: ${skip}`);
// Reads, writes, permissions, transactions (commit, abort, conflict) and watches; one JSON result.
const SCRIPT = String.raw `
import json, sys, pyxs
sock = sys.argv[1]
r = {}
with pyxs.Client(unix_socket_path=sock) as c:
    c[b"/py/a"] = b"hello"
    r["read"] = c[b"/py/a"].decode()
    c.mkdir(b"/py/dir")
    r["list"] = [x.decode() for x in c.list(b"/py")]
    r["exists"] = [c.exists(b"/py/a"), c.exists(b"/py/missing")]
    try:
        c.read(b"/py/missing")
    except pyxs.PyXSError as e:
        r["missing"] = e.args[0]
    c.set_perms(b"/py/a", [b"n0", b"r3"])
    r["perms"] = [p.decode() for p in c.get_perms(b"/py/a")]
    r["domain_path"] = c.get_domain_path(3).decode()
    r["introduced"] = c.is_domain_introduced(0)
    with pyxs.Client(unix_socket_path=sock) as t:
        t.transaction()
        t[b"/py/t1"] = b"1"
        t[b"/py/t2"] = b"2"
        r["inside"] = c.exists(b"/py/t1")
        r["commit"] = t.commit()
        t.transaction()
        t[b"/py/t3"] = b"3"
        t.rollback()
        t.transaction()
        t.read(b"/py/a")
        c[b"/py/a"] = b"changed"
        t[b"/py/t4"] = b"4"
        r["conflict_commit"] = t.commit()
    r["after"] = [c.exists(b"/py/t1"), c.exists(b"/py/t2"), c.exists(b"/py/t3"), c.exists(b"/py/t4")]
    with pyxs.Client(unix_socket_path=sock) as w:
        m = w.monitor()
        m.watch(b"/py/w", b"tok")
        events = m.wait()
        r["events"] = [[p.decode(), t.decode()] for p, t in [next(events)]]
        c[b"/py/w/x"] = b"1"
        r["events"].append([x.decode() for x in next(events)])
        c.delete(b"/py/w")
        r["events"].append([x.decode() for x in next(events)])
        m.unwatch(b"/py/w", b"tok")
    c.delete(b"/py")
    r["gone"] = c.exists(b"/py")
print(json.dumps(r))
`;
test('pyxs: reads, writes, transactions, watches', { skip }, async () => {
    const d = await startDaemon();
    try {
        const { stdout } = await run(PYTHON, ['-c', SCRIPT, d.path], { timeout: 20_000 });
        assert.deepEqual(JSON.parse(stdout), {
            read: 'hello',
            list: ['a', 'dir'],
            exists: [true, false],
            missing: 2,
            perms: ['n0', 'r3'],
            domain_path: '/local/domain/3',
            introduced: true,
            inside: false,
            commit: true,
            conflict_commit: false,
            after: [true, true, false, false],
            events: [['/py/w', 'tok'], ['/py/w/x', 'tok'], ['/py/w', 'tok']],
            gone: false,
        });
    }
    finally {
        await d.stop();
    }
});
//# sourceMappingURL=xenstore-pyxs.test.js.map