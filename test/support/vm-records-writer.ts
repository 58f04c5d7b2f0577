// The child of the VM records' kill -9 test: writes VM records through the host's VmTable (as
// the host does at every change of a domain: a persistent VM made, started with its devices,
// stopped; a transient VM started) and prints "acked N" once record N's last write has
// returned. The parent kills it with SIGKILL in the middle of this.
import { SqliteHostDb } from '../../src/toolstack/db/sqlite.js';
import { VmTable } from '../../src/toolstack/vms.js';
import type { DomainConfig } from '../../src/toolstack/domconfig.js';
import { parseDomainConfig } from '../../src/toolstack/domconfig.js';

const [path, prefix] = process.argv.slice(2) as [string, string];
const db = SqliteHostDb.open(path);
const vms = new VmTable(db, 'OpaqueRef:NULL');
const config = (name: string): DomainConfig => parseDomainConfig(
  `name = "${name}"\nkernel = "/k.ts"\nmemory = 32\ndisk = [ 'vdev=xvda, target=/d.img' ]\nvif = [ 'bridge=xenbr0' ]\n`, '/k.cfg').config;
for (let i = 0; ; i++) {
  const name = `${prefix}-${i}`;
  const { ref, uuid } = await vms.create(config(name));
  await vms.started(ref, { domid: i + 1, uuid, createdAt: Date.now() }, { ...config(name), uuid }, false);
  await vms.stopped(ref, false);
  // A transient VM that runs: the next host start finds it left over and removes it.
  await vms.started(undefined, { domid: 10_000 + i, uuid: crypto.randomUUID(), createdAt: Date.now() }, config(`${name}-transient`), false);
  process.stdout.write(`acked ${i}\n`);
}
