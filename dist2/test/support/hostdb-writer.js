// The child of the host database's durability test: writes records in transactions as fast as
// it can and reports each once its commit has returned. The parent kills it with SIGKILL in the
// middle of this; every record reported must be there afterwards.
import { SqliteHostDb } from '../../src/toolstack/db/sqlite.js';
const [path, prefix] = process.argv.slice(2);
const db = SqliteHostDb.open(path);
const vm = await db.transaction((tx) => tx.VM.create({ name_label: `${prefix}-counter` }));
for (let i = 0;; i++) {
    // A record created, one changed and one destroyed per transaction: every kind of write is under way at the kill.
    await db.transaction((tx) => {
        const ref = tx.VDI.create({ name_label: `${prefix}-${i}`, virtual_size: i });
        tx.VM.update(vm, { user_version: i });
        const scratch = tx.task.create({ name_label: `${prefix}-scratch` });
        tx.task.destroy(scratch);
        return ref;
    });
    process.stdout.write(`acked ${i}\n`);
}
//# sourceMappingURL=hostdb-writer.js.map