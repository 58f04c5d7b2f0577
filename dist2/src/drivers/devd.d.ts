import type { DriverContext } from './evtchn.js';
export declare const HOTPLUG_STATUS = "hotplug-status";
export declare const HOTPLUG_ERROR = "hotplug-error";
export interface BackendDevice {
    close(): Promise<void>;
}
/** Start the backend of the device whose backend directory is `dir`. */
export type StartBackend<D extends BackendDevice> = (ctx: DriverContext, dir: string) => Promise<D>;
export declare class BackendDaemon<D extends BackendDevice> {
    #private;
    readonly base: string;
    protected constructor(ctx: DriverContext, domid: number, type: string, start: StartBackend<D>);
    protected watch(): Promise<void>;
    /** The backend serving `<frontend domid>/<devid>`, if any. */
    device(frontendId: number, devid: number): D | undefined;
    get devices(): ReadonlyMap<string, D>;
    /** Close the devices of frontend domain `domid` now (it is being destroyed). */
    removeFrontend(domid: number): Promise<void>;
    /** Close every device and stop watching (the backend domain is going away). */
    stop(): Promise<void>;
}
