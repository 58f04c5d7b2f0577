export interface Certificate {
    readonly key: string;
    readonly cert: string;
}
/** The certificate at `certFile`/`keyFile`, made first if either is missing. */
export declare function ensureCertificate(certFile: string, keyFile: string): Promise<Certificate>;
