export interface StaticFile {
    readonly type: string;
    readonly body: string;
}
export declare const SITE: ReadonlyMap<string, StaticFile>;
