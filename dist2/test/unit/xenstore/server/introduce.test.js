// XS_INTRODUCE's ring mapping: the guest's page through its reserved grant, its port bound, both
// let go when xenstored closes the ring (or when binding fails).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GNTTAB_RESERVED_XENSTORE, PFN_XENSTORE } from '../../../../src/hypervisor/layout.js';
import { mapGuestRing } from '../../../../src/xenstore/server/introduce.js';
import { harness, within } from '../../../support/hypervisor.js';
const REF = GNTTAB_RESERVED_XENSTORE;
test('the ring is the guest\'s page and port; closing it unmaps the page', async (t) => {
    const h = harness(t);
    const g = h.local();
    g.hc.grantAccessRef(REF, 0, PFN_XENSTORE, false);
    const port = await g.hc.evtchnAllocUnbound(0);
    g.events.listen(port);
    const ring = await within(mapGuestRing(h.dom0, h.dom0Events.loop)(g.domid, 0, port), 'introduce');
    ring.page[100] = 0xa5;
    assert.equal(g.domain.view.frame(PFN_XENSTORE)[100], 0xa5);
    const event = g.events.next(port);
    ring.evtchn.notify();
    await event;
    // Mapped: the guest cannot take the grant back.
    assert.equal(g.hc.endAccess(REF, false), false);
    ring.evtchn.close();
    assert.equal(g.hc.endAccess(REF, false), true);
});
test('a port that cannot be bound leaves the page unmapped', async (t) => {
    const h = harness(t);
    const g = h.local();
    g.hc.grantAccessRef(REF, 0, PFN_XENSTORE, false);
    await assert.rejects(mapGuestRing(h.dom0, h.dom0Events.loop)(g.domid, 0, 4000));
    assert.equal(g.hc.endAccess(REF, false), true);
});
//# sourceMappingURL=introduce.test.js.map