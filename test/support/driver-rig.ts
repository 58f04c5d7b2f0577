// The machine split-driver tests run on, on the test's own thread: a hypervisor (dom0 and
// guests as local domains, each with its upcall loop) and an in-process xenstored with one
// connection per domain. The block and network rigs add their backends on top.
import { eventChannels, type DriverContext } from '../../src/drivers/evtchn.js';
import { XenstoreClient } from '../../src/xenstore/client/client.js';
import { connectLocal } from '../../src/xenstore/client/transport.js';
import { Xenstored } from '../../src/xenstore/server/daemon.js';
import { Harness, type LocalDomain } from './hypervisor.js';

export interface GuestSide extends LocalDomain {
  readonly ctx: DriverContext;
  readonly xs: XenstoreClient;
}

export class DriverRig {
  readonly h = new Harness();
  readonly xenstored = new Xenstored();
  readonly xs0 = new XenstoreClient(connectLocal(this.xenstored, 0));
  readonly log: string[] = [];
  #clients: XenstoreClient[] = [this.xs0];

  get dom0(): DriverContext {
    return { hc: this.h.dom0, evtchn: eventChannels(this.h.dom0, this.h.dom0Events.loop), xs: this.xs0, log: (l) => this.log.push(l) };
  }

  /** A guest with its own xenstore connection; `logged`: its drivers log into `log` too. */
  guest(ramFrames = 1024, logged = false): GuestSide {
    const d = this.h.local({ ramFrames });
    this.xenstored.introduceDomain(d.domid);
    const xs = new XenstoreClient(connectLocal(this.xenstored, d.domid));
    this.#clients.push(xs);
    const ctx: DriverContext = { hc: d.hc, evtchn: eventChannels(d.hc, d.events.loop), xs, ...(logged && { log: (l: string) => this.log.push(l) }) };
    return { ...d, xs, ctx };
  }

  /** Close every xenstore connection, then the hypervisor. */
  async close(): Promise<void> {
    for (const c of this.#clients) c.close();
    await this.h.close();
  }
}
