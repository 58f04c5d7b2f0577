export interface RunOptions {
    readonly stateDir?: string;
    readonly quiet?: boolean;
}
export declare function run(file: string, opts: RunOptions): Promise<number>;
