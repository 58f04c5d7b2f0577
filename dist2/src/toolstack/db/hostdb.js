// The host database's interface: XAPI's records by class, read and written in transactions,
// and the change feed event.from is built on. SQLite implements it on one host (sqlite.ts); a
// pool will implement it on etcd: the transaction body is synchronous over a consistent view
// (an etcd back-end runs it over its watched cache and commits with compares on the revisions
// it read, rerunning it on a conflict), and every call that reaches the store is async.
// Nothing here speaks SQL.
import { XenError } from '../../errors.js';
/** A ref that names no record of its class (XAPI's HANDLE_INVALID). */
export class HandleInvalid extends XenError {
    cls;
    ref;
    name = 'HandleInvalid';
    constructor(cls, ref) {
        super('ENOENT', `HANDLE_INVALID: no ${cls} ${ref}`);
        this.cls = cls;
        this.ref = ref;
    }
}
/** A uuid that names no record of its class (XAPI's UUID_INVALID). */
export class UuidInvalid extends XenError {
    cls;
    uuid;
    name = 'UuidInvalid';
    constructor(cls, uuid) {
        super('ENOENT', `UUID_INVALID: no ${cls} with uuid ${uuid}`);
        this.cls = cls;
        this.uuid = uuid;
    }
}
/** The database was written by a newer xenode, whose schema this one does not know. */
export class SchemaTooNew extends XenError {
    path;
    found;
    known;
    name = 'SchemaTooNew';
    constructor(path, found, known) {
        super('EINVAL', `the host database ${path} has schema version ${found}, and this xenode knows versions up to ${known}: ` +
            'run a newer xenode, or move the file aside to start afresh');
        this.path = path;
        this.found = found;
        this.known = known;
    }
}
/** A write the database refused: a duplicate uuid or ref, a changed uuid. */
export class ConstraintViolation extends XenError {
    name = 'ConstraintViolation';
    constructor(detail) {
        super('EEXIST', detail);
    }
}
//# sourceMappingURL=hostdb.js.map