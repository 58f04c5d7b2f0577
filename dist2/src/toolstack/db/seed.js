// The records every host database has: one pool whose master is this host, the host and its
// metrics. Made on the first start, brought up to date (hostname, version, memory) on each.
import { hostname, totalmem, freemem } from 'node:os';
import { VERSION } from '../../version.js';
export function seedHost(db) {
    const now = new Date().toISOString();
    const name = hostname();
    const software_version = { product_brand: 'xenode', product_version: VERSION, platform_name: 'xenode', node: process.version };
    const metrics = { memory_total: totalmem(), memory_free: freemem(), live: true, last_updated: now };
    return db.transaction((tx) => {
        const [pool] = tx.pool.getAll();
        if (pool !== undefined) {
            const host = tx.pool.get(pool).master;
            const h = tx.host.get(host);
            tx.host.update(host, { hostname: name, software_version });
            tx.host_metrics.update(h.metrics, metrics);
            return { pool, host };
        }
        const m = tx.host_metrics.create(metrics);
        const host = tx.host.create({ name_label: name, hostname: name, address: '127.0.0.1', software_version, metrics: m });
        return { pool: tx.pool.create({ master: host }), host };
    });
}
//# sourceMappingURL=seed.js.map