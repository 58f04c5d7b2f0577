import type { HostDb } from './hostdb.js';
import type { Ref } from './records.js';
export interface HostRefs {
    readonly pool: Ref<'pool'>;
    readonly host: Ref<'host'>;
}
export declare function seedHost(db: HostDb): Promise<HostRefs>;
