import type { Gateway } from '../network/gateway/gateway.js';
import { type ForwardSpec } from '../network/gateway/forwardspec.js';
import type { ForwardInfo } from './contract.js';
import type { DomainVif } from './domconfig.js';
export declare class DomainForwards {
    #private;
    private readonly gateway;
    /** `gateway(bridge)`: the bridge's gateway, attached if it has none. */
    constructor(gateway: (bridge: string) => Gateway);
    /** Forward `spec` to the domain whose vifs are `vifs`. */
    add(domid: number, vifs: readonly DomainVif[], spec: ForwardSpec): Promise<ForwardInfo>;
    /** Remove the domain's forward of that host port; ENOENT if it has none. */
    remove(domid: number, spec: ForwardSpec): ForwardInfo;
    /** Forwards of `domid`, or all. */
    list(domid?: number): ForwardInfo[];
    /** The domain is going: its forwards close. */
    removeDomain(domid: number): void;
}
