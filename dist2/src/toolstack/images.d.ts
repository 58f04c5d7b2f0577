/** Size of an image created for a bare name that does not exist yet. */
export declare const DEFAULT_IMAGE_BYTES: number;
/**
 * A configuration file's target, with a relative path that has a '/' anchored at the file's
 * directory; other targets are returned as they are.
 */
export declare function resolveConfigTarget(target: string, configFile: string): string;
/**
 * The path a target names on this host, for the backend's params. A bare name is confined to
 * `imagesDir` and created there (empty, sparse, in `format`) if absent; `log` is told when one is.
 */
export declare function targetPath(target: string, format: string, imagesDir: string, log?: (line: string) => void): Promise<string>;
