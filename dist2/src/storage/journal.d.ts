export declare const JOURNAL_DIR = ".journal";
/** fsync a directory, so the names made or removed in it are durable. */
export declare function syncDir(dir: string): Promise<void>;
/** Write a journal entry (durably); its id. */
export declare function journalWrite(srDir: string, entry: object): Promise<string>;
export declare function journalDone(srDir: string, id: string): Promise<void>;
/** The journals left in an SR by operations that did not finish, oldest first by name; a file that is not one is an error naming it. */
export declare function journalEntries(srDir: string): Promise<{
    id: string;
    entry: Record<string, unknown>;
}[]>;
