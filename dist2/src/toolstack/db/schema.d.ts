import type Database from 'better-sqlite3';
export type Migration = (db: Database.Database) => void;
/** The table that holds a class's records. */
export declare function classTable(cls: string): string;
/** Every migration, in order: the schema's version is their count. */
export declare const MIGRATIONS: readonly Migration[];
/** The version a database is at (0: new), read without changing anything. */
export declare function schemaVersion(db: Database.Database): number;
/** Bring a database up to the last of `migrations`, one transaction per step. */
export declare function migrate(db: Database.Database, migrations: readonly Migration[], from: number): void;
