// The builder's teardown of a domain (a failed create's, a shell's, a destroy's) acts on the
// domain it was given, not on whatever holds its domid: one reaped elsewhere meanwhile (xl
// destroy, on_crash) may have left its domid to a new domain once the allocator came round
// (DOMID_FIRST_RESERVED ids), and that one keeps its console, its paths and its life.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Hypervisor } from '../../../src/hypervisor/hypervisor.js';
import { teardownDomain, type BuildContext } from '../../../src/toolstack/builder.js';

test("a teardown whose domain's domid now names another domain leaves that domain, its console and its xenstore paths alone", async () => {
  // Two hypervisors hand out the same first domid: the stale domain is one of the other's, as a
  // reaped domain is to the new one that took its domid.
  const stale = new Hypervisor().createDomain({ name: 'reaped', ramFrames: 1 });
  const hv = new Hypervisor();
  const now = hv.createDomain({ name: 'new', ramFrames: 1 });
  assert.equal(now.domid, stale.domid);
  const touched: string[] = [];
  const record = (what: string) => (...a: unknown[]) => {
    touched.push(`${what} ${a.join(' ')}`);
    return Promise.resolve();
  };
  const ctx = {
    hv,
    consoled: { drain: record('drain'), detach: record('detach') },
    xs: new Proxy({}, { get: (_, op) => record(`xs.${String(op)}`) }),
  } as unknown as BuildContext;
  await teardownDomain(ctx, stale);
  assert.deepEqual(touched, []);
  assert.equal(hv.findDomain(now.domid), now);
  assert.equal(now.dying, false);
});

test("a teardown whose domain was reaped elsewhere, its domid free: its xenstore paths are removed all the same", async () => {
  const hv = new Hypervisor();
  const reaped = hv.createDomain({ name: 'reaped', ramFrames: 1 });
  await hv.destroyDomain(reaped.domid);
  assert.equal(hv.findDomain(reaped.domid), undefined, 'reaped');
  const removed: string[] = [];
  const ctx = {
    hv,
    consoled: { drain: () => {}, detach: () => {} },
    xs: new Proxy({}, { get: (_, op) => (path: unknown) => {
      if (op === 'rm') removed.push(String(path));
      return Promise.resolve();
    } }),
  } as unknown as BuildContext;
  await teardownDomain(ctx, reaped);
  assert.deepEqual(removed, [`/local/domain/${reaped.domid}`, `/vm/${reaped.uuid}`]);
});
