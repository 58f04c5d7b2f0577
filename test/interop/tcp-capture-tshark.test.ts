// Debian's tshark decodes a `xenode capture` of our own TCP conversation: a host program talks
// to the echo unikernel (examples/echo) through its host forward, so on xenbr0 dom0's gateway
// stack and the guest's stack (both src/tcpip) hold the connection. tshark, with checksum
// validation and sequence analysis on, finds the handshake (SYN, SYN-ACK, ACK), the data both
// ways (GSO super-frames as the capture segments them), both FINs and their ACKs, and no
// malformed frame, no bad checksum and no TCP analysis flag but window updates (no lost segment,
// retransmission, dup ACK, zero window...); the guest's DHCP and ARP before it decode cleanly too.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT, XENODE } from '../support/cli.js';
import { echoed } from '../support/echo.js';
import { startDaemonRig } from '../support/host-daemon.js';
import { freePort } from '../support/ports.js';

const run = promisify(execFile);
const TSHARK = '/usr/bin/tshark';
const skip = existsSync(TSHARK) ? false : 'tshark not installed (apt-get install tshark)';
if (skip) console.log(`# skipping: ${skip}`);

const GUEST_MAC = '00:16:3e:7c:a9:01';
/** Big enough for GSO super-frames from both stacks, small enough to stay well inside the capture's backlog. */
const DATA = randomBytes(96 * 1024);

const tsharkOpts = ['-n', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE',
  '-o', 'tcp.analyze_sequence_numbers:TRUE', '-o', 'tcp.relative_sequence_numbers:TRUE'];

async function fields(file: string, filter: string, names: string[]): Promise<string[][]> {
  const { stdout } = await run(TSHARK, [...tsharkOpts, '-r', file, '-Y', filter, '-T', 'fields', '-E', 'separator=/t', ...names.flatMap((n) => ['-e', n])],
    { timeout: 60_000, maxBuffer: 64 << 20 });
  return stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}

test('tshark decodes a capture of our TCP conversation (gateway <-> guest): handshake, data, FINs, no warnings', { skip, timeout: 180_000 }, async (t) => {
  const rig = await startDaemonRig('tcp-capture');
  t.after(() => rig.close());
  const port = await freePort();
  const file = join(rig.dir, 'xenbr0.pcap');
  const cfg = readFileSync(join(ROOT, 'examples/echo/echo.cfg'), 'utf8')
    .replace('kernel = "echo.ts"', `kernel = "${join(ROOT, 'examples/echo/echo.ts')}"`)
    .replace(`vif = [ 'bridge=xenbr0' ]`, `vif = [ 'mac=${GUEST_MAC},bridge=xenbr0' ]`)
    .replace(`forward = [ 'tcp:7007:7', 'udp:7007:7' ]`, `forward = [ 'tcp:${port}:7' ]`);
  assert.match(cfg, new RegExp(`tcp:${port}:7`), 'echo.cfg has the forward this test rewrites');
  assert.match(cfg, new RegExp(GUEST_MAC), 'echo.cfg has the vif this test rewrites');
  // Built paused, so that xenbr0 (made with the guest's vif and the forward's gateway) is there
  // to capture before the guest's first frame.
  const { domid } = await rig.ts.call('create', { file: rig.cfgFile('echo', cfg), paused: true });
  // `xenode capture` as a user runs it, until Ctrl-C.
  const capture = spawn(process.execPath, [XENODE, 'capture', 'xenbr0', '-w', file], { cwd: ROOT, env: { ...process.env, XENODE_STATE_DIR: rig.stateDir } });
  let captureErr = '';
  capture.stderr.on('data', (b: Buffer) => (captureErr += b.toString()));
  const captured = new Promise<number | null>((resolve) => capture.on('close', resolve));
  t.after(() => capture.kill('SIGKILL'));
  for (let i = 0; !(existsSync(file) && statSync(file).size >= 24); i++) {
    assert.ok(i < 600, `the capture never started: ${captureErr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await rig.ts.call('unpause', { domain: domid });
  // Until the guest listens: the gateway connects to the guest before it accepts, so a
  // failed attempt is a closed connection with nothing echoed (and its frames are in the file).
  let back: Buffer = Buffer.alloc(0);
  for (let i = 0; i < 300; i++) {
    back = await echoed(port, Buffer.from('ready?')).catch(() => Buffer.alloc(0));
    if (back.toString() === 'ready?') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(back.toString(), 'ready?');
  // The conversation under test, alone on its connection.
  assert.ok((await echoed(port, DATA)).equals(DATA), 'every byte echoed');
  await new Promise((r) => setTimeout(r, 300)); // the last ACKs of the close reach the bridge
  capture.kill('SIGINT');
  assert.equal(await captured, 0, captureErr);
  assert.match(captureErr, /\d+ packets captured/);

  // The last TCP stream on port 7 is the conversation: gateway -> guest carries DATA, the guest echoes it.
  const rows = await fields(file, 'tcp.port == 7', ['tcp.stream', 'frame.number', 'eth.src', 'tcp.flags.syn', 'tcp.flags.ack', 'tcp.flags.fin', 'tcp.flags.reset', 'tcp.len', 'tcp.seq', 'tcp.ack']);
  const stream = Number(rows[rows.length - 1]![0]);
  // On a machine too loaded to run a receiver in time, a retransmission timer fires: TCP working,
  // not a fault. Such a segment, the duplicate ACK it draws and, when the repeat was the
  // gateway's FIN after the guest had closed, the guest's reset of it (RFC 793: a segment for a
  // closed connection) are set apart; everything else in the conversation must be clean.
  const RETRANSMITTED = 'tcp.analysis.retransmission || tcp.analysis.fast_retransmission || tcp.analysis.spurious_retransmission || tcp.analysis.duplicate_ack';
  const repeats = new Set((await fields(file, `tcp.stream == ${stream} && (${RETRANSMITTED})`, ['frame.number'])).map(([n]) => n));
  const lateReset = `tcp.stream == ${stream} && tcp.flags.reset == 1 && tcp.flags.ack == 0 && eth.src == ${GUEST_MAC} && tcp.seq == ${2 + DATA.length}`;
  const lateResets = repeats.size > 0 ? new Set((await fields(file, lateReset, ['frame.number'])).map(([n]) => n)) : new Set<string>();
  // Nothing malformed and no bad checksum in the whole capture; no warning or error from any
  // dissector outside the readiness probes (a probe that reaches the guest before it listens is
  // reset, and its SYN may be retransmitted while the guest boots) and the late reset above. In
  // the conversation, no TCP analysis flag but a window update (the receiver's window reopening
  // as the application reads) and the repeats above: a lost or unseen segment, a zero window or
  // an out-of-order segment fail.
  const problems = (await fields(file, '_ws.malformed || tcp.checksum.status == "Bad" || udp.checksum.status == "Bad" || ip.checksum.status == "Bad" '
    + `|| (_ws.expert.severity >= "warning" && !(tcp.stream != ${stream})) `
    + `|| (tcp.stream == ${stream} && tcp.analysis.flags && !tcp.analysis.window_update && !(${RETRANSMITTED}))`,
  ['frame.number', '_ws.col.Info'])).filter(([n]) => !lateResets.has(n!));
  assert.deepEqual(problems, [], 'tshark flags these frames');
  const protocols = new Set((await fields(file, 'frame', ['frame.protocols'])).map(([p]) => p));
  for (const p of ['eth:ethertype:arp', 'eth:ethertype:ip:udp:dhcp', 'eth:ethertype:ip:tcp', 'eth:ethertype:ip:tcp:echo']) assert.ok(protocols.has(p), `a ${p} frame in ${[...protocols].join(', ')}`);

  const conv = rows.filter((r) => Number(r[0]) === stream && !repeats.has(r[1]!) && !lateResets.has(r[1]!)).map(([, , src, syn, ack, fin, rst, len, seq, ackNo]) => ({
    fromGuest: src === GUEST_MAC, syn: syn === '1', ack: ack === '1', fin: fin === '1', rst: rst === '1', len: Number(len), seq: Number(seq), ackNo: Number(ackNo),
  }));
  const [syn, synAck, ack] = conv;
  assert.ok(syn && !syn.fromGuest && syn.syn && !syn.ack, 'the gateway opens with a SYN');
  assert.ok(synAck && synAck.fromGuest && synAck.syn && synAck.ack && synAck.ackNo === 1, 'the guest answers SYN-ACK');
  assert.ok(ack && !ack.fromGuest && !ack.syn && ack.ack && ack.ackNo === 1, 'the gateway ACKs');
  assert.equal(conv.filter((f) => f.syn).length, 2, 'one SYN each way');
  assert.equal(conv.filter((f) => f.rst).length, 0, 'closed without a reset');
  const sent = conv.filter((f) => !f.fromGuest).reduce((a, f) => a + f.len, 0);
  const echoedBytes = conv.filter((f) => f.fromGuest).reduce((a, f) => a + f.len, 0);
  assert.equal(sent, DATA.length, 'the data to the guest, every byte once');
  assert.equal(echoedBytes, DATA.length, 'the echo, every byte once');
  assert.ok(conv.some((f) => f.len > 0 && f.len <= 1460), 'segments no larger than an MSS (super-frames segmented by the capture)');
  const finFromGateway = conv.find((f) => f.fin && !f.fromGuest);
  const finFromGuest = conv.find((f) => f.fin && f.fromGuest);
  assert.ok(finFromGateway && finFromGuest, 'a FIN each way');
  // A FIN may ride on the last data segment: it takes the sequence number after that data.
  assert.equal(finFromGateway.seq + finFromGateway.len, 1 + DATA.length, "the gateway's FIN follows its data");
  assert.equal(finFromGuest.seq + finFromGuest.len, 1 + DATA.length, "the guest's FIN follows its echo");
  const last = conv[conv.length - 1]!;
  assert.ok(last.ack && !last.fin && last.ackNo === 2 + DATA.length, 'the last FIN is ACKed');
});
