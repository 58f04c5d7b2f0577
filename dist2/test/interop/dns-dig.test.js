// The dns example against Debian's dig: `xenode run` boots examples/dns/dns.cfg (its zone, its
// `forward` of a host UDP port to the guest's port 53), the guest takes its address by DHCP
// from dom0's gateway, and dig asks it through the forward: the answers are authoritative,
// a CNAME is followed, an MX brings its glue, a name that does not exist is NXDOMAIN.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT, xenode } from '../support/cli.js';
const DIG = '/usr/bin/dig';
const DIR = join(ROOT, 'examples/dns');
const run = promisify(execFile);
const stateDir = mkdtempSync(join(tmpdir(), 'xenode-dns-'));
after(() => rmSync(stateDir, { recursive: true, force: true }));
/** A UDP port free on 127.0.0.1 right now. */
async function freeUdpPort() {
    const s = createSocket('udp4');
    await new Promise((r) => s.bind(0, '127.0.0.1', r));
    const { port } = s.address();
    await new Promise((r) => s.close(r));
    return port;
}
test('dig asks the dns example through its host forward: authoritative A, CNAME, MX with glue, NXDOMAIN', { timeout: 120_000 }, async (t) => {
    if (!existsSync(DIG))
        return t.skip(`${DIG} is not installed (apt-get install bind9-dnsutils)`);
    const port = await freeUdpPort();
    // The example's own configuration, on a free port instead of 5353 and with its kernel's full path.
    const cfg = readFileSync(join(DIR, 'dns.cfg'), 'utf8')
        .replace("'udp:5353:53'", `'udp:${port}:53'`).replace('kernel = "dns.ts"', `kernel = "${join(DIR, 'dns.ts')}"`);
    assert.match(cfg, new RegExp(`udp:${port}:53`));
    const file = join(stateDir, 'dns.cfg');
    writeFileSync(file, cfg);
    const dig = async (...args) => (await run(DIG, ['@127.0.0.1', '-p', String(port), '+time=5', '+tries=3', ...args])).stdout;
    let answers;
    const r = await xenode(['run', file], {
        state: stateDir,
        onStdout: (text, child) => {
            if (answers || !/serving example\.test/.test(text))
                return;
            // All at once: each host client is a flow of the forward, and gets its own answer.
            answers = Promise.all([['example.test'], ['+short', 'ftp.example.test'], ['example.test', 'MX'], ['nope.example.test'], ['+short', 'example.test', 'TXT']]
                .map((q) => dig(...q))).finally(() => child.kill('SIGINT'));
        },
    });
    assert.ok(answers, `the guest never said it serves: ${r.stdout}\n${r.stderr}`);
    const [a, cname, mx, nx, txt] = await answers;
    assert.match(a, /status: NOERROR/);
    assert.match(a, /flags: qr aa rd;/, 'authoritative, no recursion offered');
    assert.match(a, /^example\.test\.\s+300\s+IN\s+A\s+10\.0\.2\.15$/m);
    assert.equal(cname, 'www.example.test.\n10.0.2.15\n');
    assert.match(mx, /^example\.test\.\s+300\s+IN\s+MX\s+10 mail\.example\.test\.$/m);
    assert.match(mx, /ADDITIONAL SECTION:\nmail\.example\.test\.\s+300\s+IN\s+A\s+10\.0\.2\.16/);
    assert.match(nx, /status: NXDOMAIN/);
    assert.match(nx, /AUTHORITY SECTION:\nexample\.test\.\s+300\s+IN\s+SOA\s+ns\.example\.test\. hostmaster\.example\.test\. 1 3600 600 86400 300/);
    assert.equal(txt, '"served by a xenode unikernel"\n');
});
//# sourceMappingURL=dns-dig.test.js.map