import { RTO_DEFAULTS } from './rto.js';
export const TCP_DEFAULTS = {
    sndBufMax: 256 * 1024,
    rcvBufMax: 256 * 1024,
    mslMs: 30_000,
    finWait2Ms: 60_000,
    delayedAckMs: 40,
    synRetries: 5,
    dataRetries: 12,
    rto: RTO_DEFAULTS,
    gsoMax: 65536 - 1024,
    maxConnections: 16384,
    maxTimeWait: 4096,
    backlog: 128,
    sack: true,
};
//# sourceMappingURL=settings.js.map