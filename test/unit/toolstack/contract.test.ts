// The command contract's edge: every decoder turns good raw JSON into typed arguments and
// refuses bad input with an InvalidArgument that names the field; random JSON gets either
// typed arguments or one of the edge's own errors, never anything else.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XenError, isXenError } from '../../../src/errors.js';
import { COMMAND_ARGS, InvalidArgument, STREAM_ARGS, decodeRequest, type Op } from '../../../src/toolstack/contract.js';
import { rng } from '../../support/random.js';

/** One good argument object per operation (the optional keys set). */
const GOOD: { readonly [K in Op]: Record<string, unknown> } = {
  create: { file: '/etc/xen/g.cfg', text: 'name = "g"\n', paused: true },
  list: { domains: ['g', 3], long: true },
  listColumns: { domains: ['g', 3] },
  lookup: { domain: 'g' },
  destroy: { domain: 7 },
  shutdown: { domain: '7', reboot: true },
  pause: { domain: 'g' },
  hardReboot: { domain: 'g' },
  unpause: { domain: 'g' },
  rename: { domain: 'g', name: 'h' },
  blockAttach: { domain: 'g', spec: 'target=/a.img,vdev=xvdb' },
  blockDetach: { domain: 'g', vdev: 'xvdb', force: true },
  blockList: { domain: 'g' },
  networkAttach: { domain: 'g', spec: 'bridge=xenbr1,mac=00:16:3e:aa:bb:cc' },
  networkDetach: { domain: 'g', vif: '00:16:3e:aa:bb:cc', force: true },
  networkList: { domain: 'g' },
  networkForward: { domain: 'g', spec: 'tcp:8080:80', remove: true },
  networkForwardList: { domain: 'g' },
  networkGateway: { bridge: 'xenbr0', restrict: 'on' },
  consoleLog: { domain: 'g' },
  info: {},
  dmesg: { clear: true },
  debugKeys: { keys: 'e' },
  stop: {},
  userAdd: { name: 'alice', role: 'vm-admin', password: 'secret' },
  bridgeList: {},
  capture: { target: 'vif3.0', file: '/tmp/x.pcap', count: 10, snaplen: 96, maxBytes: 1 << 20 },
  captureStop: { file: '/tmp/x.pcap' },
  bridgeLink: { bridge: 'xenbr0', remote: '127.0.0.1:4790', local: '127.0.0.1:4789', vni: 5000 },
  bridgeUnlink: { bridge: 'xenbr0', remote: '127.0.0.1:4790' },
  bridgeTap: { bridge: 'xenbr1', tap: 'xntap0', address: '10.99.0.1/24', remove: true },
  srList: {},
  srCreate: { name: 'fast', type: 'file', path: '/srv/fast', description: 'SSD' },
  srScan: { sr: 'default' },
  vdiCreate: { sr: 'default', name: 'root', size: '8G', format: 'raw', description: 'boot disk' },
  vdiList: { sr: 'fast' },
  vdiDestroy: { vdi: 'root' },
  vdiResize: { vdi: 'root', size: '16G' },
  vdiImport: { sr: 'default', file: '/tmp/disk.qcow2', name: 'root', format: 'qcow2' },
  vdiExport: { vdi: 'root', file: '/tmp/out.vhd', format: 'vhd' },
  vdiSnapshot: { vdi: 'root', name: 'before', description: 'd', clone: true },
  vdiMigrate: { vdi: 'root', sr: 'fast' },
  srGc: { sr: 'fast' },
  taskSubmit: { call: { op: 'vdiExport', args: { vdi: 'root', file: '/tmp/out.vhd', format: 'vhd' } } },
  taskGet: { task: 'e3b0c442-98fc-1c14-9afb-f4c8996fb924' },
  taskList: {},
  taskCancel: { task: 'e3b0c442-98fc-1c14-9afb-f4c8996fb924' },
  save: { domain: 'g', file: '/tmp/g.save', checkpoint: true, paused: true, timeoutMs: 5000 },
  restore: { file: '/tmp/g.save', paused: true },
  migrate: { domain: 'g', target: '127.0.0.1:8444', token: 'ab'.repeat(32), maxRounds: 5, dirtyThreshold: 50 },
  cpupoolCreate: { name: 'dense', cpus: 2, sched: 'credit' },
  cpupoolList: {},
  summon: { name: 'www.example.test', file: '/etc/xen/www.cfg' },
  summonList: {},
  unsummon: { name: 'www.example.test' },
  summonForward: { spec: 'tcp:8080:80', file: '/etc/xen/www.cfg', text: 'name = "www"\n' },
  summonForwardList: {},
  cpupoolDestroy: { name: 'dense' },
  cpupoolMigrate: { domain: 'g', pool: 'dense' },
  vmImport: { file: '/etc/xen/g.cfg', text: 'name = "g"\n', description: 'web' },
  vmStart: { vm: 'g', paused: true },
  vmList: {},
  vmUninstall: { vm: 'g' },
  vmSuspend: { vm: 'g' },
  deviceStats: {},
  vmResume: { vm: 'g', paused: true },
  vmDevice: { vm: 'g', disk: 'target=vdi:root,vdev=xvda' },
  vifSet: { vm: 'g', vif: '0', lockingMode: 'locked', ipv4Allowed: '10.0.0.2', ipv6Allowed: '' },
  vbdSet: { vm: 'g', vbd: 'xvda', mode: 'RO', bootable: true, userdevice: 2 },
  networkCreate: { name: 'lab', bridge: 'xenbr1', description: 'the lab network' },
  networkSet: { network: 'lab', defaultLockingMode: 'disabled' },
  vmSnapshot: { vm: 'g', name: 'before' },
  vmClone: { vm: 'g', name: 'g2' },
  vmCopy: { vm: 'g', name: 'g3', sr: 'fast' },
  vmRevert: { snapshot: 'before' },
  vdiCopy: { vdi: 'root', sr: 'fast', name: 'root2' },
  recordSet: { cls: 'SR', id: 'fast', name: 'faster', description: 'd', otherConfigKey: 'k', otherConfigValue: 'v' },
  vmSet: { vm: 'g', name: 'h', description: 'd', memory: 64, maxmem: 128, otherConfigKey: 'k', otherConfigValue: 'v' },
};
const STREAM_GOOD: Record<string, Record<string, unknown>> = { console: { domain: 'g', replay: false }, events: {} };
const ALL = { ...GOOD, ...STREAM_GOOD };

/** A value of the wrong type for any field. */
const WRONG: unknown[] = [null, {}, [], -1, 1.5, 65536, '', 'x'.repeat(300), true, [{}]];

function invalid(op: string, args: unknown): InvalidArgument {
  try {
    decodeRequest(op, args);
  } catch (e) {
    assert.ok(e instanceof InvalidArgument, `${op} ${JSON.stringify(args)}: ${String(e)}`);
    assert.ok(isXenError(e, 'EINVAL'));
    return e;
  }
  assert.fail(`${op} accepted ${JSON.stringify(args)}`);
}

test('the decoder table covers every operation, and good arguments decode to themselves', () => {
  assert.deepEqual(Object.keys(COMMAND_ARGS).sort(), Object.keys(GOOD).sort());
  assert.deepEqual(Object.keys(STREAM_ARGS).sort(), Object.keys(STREAM_GOOD).sort());
  for (const [op, args] of Object.entries(ALL)) {
    const r = decodeRequest(op, args);
    assert.equal(r.op, op);
    assert.equal(r.kind, op in STREAM_GOOD ? 'stream' : 'call');
    assert.deepEqual(r.args, args, op);
  }
  // Absent optional flags read as false; absent arguments as none.
  assert.deepEqual(decodeRequest('shutdown', { domain: 1 }).args, { domain: 1, reboot: false });
  assert.deepEqual(decodeRequest('info', undefined).args, {});
});

test('each field of each operation: a wrong value is refused, naming the field', () => {
  let checked = 0;
  for (const [op, args] of Object.entries(ALL)) {
    for (const field of Object.keys(args)) {
      for (const bad of WRONG) {
        // Some wrong values are right for some fields (a string for a name): skip those.
        const probe = { ...args, [field]: bad };
        let ok = true;
        try {
          decodeRequest(op, probe);
        } catch {
          ok = false;
        }
        if (ok) continue;
        const e = invalid(op, probe);
        assert.equal(e.field, field, `${op}.${field} = ${JSON.stringify(bad)}: ${e.message}`);
        assert.ok(e.message.startsWith(`EINVAL: ${op}: `), e.message);
        checked++;
      }
    }
  }
  assert.ok(checked > 100, `only ${checked} refusals`);
});

test("userAdd refuses root and the empty name: XenAPI's sessions group them with the host's own root", () => {
  for (const name of ['root', '']) {
    const e = invalid('userAdd', { name, role: 'read-only', password: 'pw' });
    assert.equal(e.field, 'name', e.message);
  }
  assert.match(invalid('userAdd', { name: 'root', role: 'pool-admin', password: 'pw' }).message, /'root' is the host's own user/);
});

test('required fields, unknown keys, non-objects, unknown operations', () => {
  for (const [op, args] of Object.entries(ALL)) {
    for (const field of Object.keys(args)) {
      const { [field]: _dropped, ...rest } = args;
      try {
        decodeRequest(op, rest);
      } catch (e) {
        assert.equal((e as InvalidArgument).field, field, `${op} without ${field}`);
      }
    }
    assert.equal(invalid(op, { ...args, colour: 'red' }).field, 'colour');
    assert.match(invalid(op, { ...args, colour: 'red' }).message, /unknown argument 'colour'/);
    for (const notObject of [null, [], 'x', 1]) {
      const e = invalid(op, notObject);
      assert.equal(e.field, null);
      assert.match(e.message, /arguments must be an object/);
    }
  }
  assert.equal(invalid('create', { file: 'relative.cfg' }).field, 'file');
  assert.equal(invalid('destroy', {}).field, 'domain');
  assert.equal(invalid('srCreate', { name: 'x', type: 'nfs' }).field, 'type');
  assert.equal(invalid('networkSet', { network: 'lab', defaultLockingMode: 'locked' }).field, 'defaultLockingMode');
  assert.throws(() => decodeRequest('fly', {}), (e: Error) => isXenError(e, 'ENOSYS') && /unknown operation 'fly'/.test(e.message));
  assert.throws(() => decodeRequest('__proto__', {}), (e: Error) => isXenError(e, 'ENOSYS'));
  assert.throws(() => decodeRequest('toString', {}), (e: Error) => isXenError(e, 'ENOSYS'));
});

/** A random JSON value, bounded in depth and size. */
function randomJson(r: () => number, depth = 0): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const kind = Math.floor(r() * (depth > 2 ? 5 : 7));
  switch (kind) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return pick([0, 1, -1, 7, 32751, 32752, 65535, 1.5, 2 ** 53, -0]);
    case 3: return pick(['', 'g', '7', '/a.cfg', 'x'.repeat(257), '__proto__', 'constructor', 'Domain-0']);
    case 4: return pick(Object.values(ALL))[pick(['domain', 'file', 'name', 'spec', 'vdev'])];
    case 5: return Array.from({ length: Math.floor(r() * 4) }, () => randomJson(r, depth + 1));
    default: {
      const keys = ['domain', 'domains', 'file', 'text', 'paused', 'long', 'reboot', 'name', 'spec', 'vdev', 'force', 'clear', 'replay', 'x'];
      const o: Record<string, unknown> = {};
      for (let n = Math.floor(r() * 5); n > 0; n--) o[pick(keys)] = randomJson(r, depth + 1);
      return o;
    }
  }
}

test('fuzz: random JSON decodes or is refused with the edge\'s own errors (bounded)', () => {
  const r = rng(0x10c0de);
  const ops = [...Object.keys(ALL), 'fly', ''];
  let accepted = 0;
  const until = Date.now() + 5_000;
  for (let i = 0; i < 5_000 && Date.now() < until; i++) {
    const op = ops[Math.floor(r() * ops.length)]!;
    const raw = r() < 0.3 ? { ...ALL[op as keyof typeof ALL], ...(randomJson(r) as object) } : randomJson(r);
    try {
      const req = decodeRequest(op, raw);
      accepted++;
      // What was accepted is what the operation's type says: re-decoding it gives it back.
      assert.deepEqual(decodeRequest(op, req.args).args, req.args);
    } catch (e) {
      assert.ok(e instanceof XenError && (e instanceof InvalidArgument || e.errno === 'ENOSYS'), `${op} ${JSON.stringify(raw)}: ${String(e)}`);
    }
  }
  assert.ok(accepted > 0, 'nothing was accepted: the fuzz does not reach the decoders');
});
