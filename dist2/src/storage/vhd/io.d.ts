import { XenError } from '../../errors.js';
export declare function fsError(op: string, file: string, e: NodeJS.ErrnoException): XenError;
export declare function transfer(op: 'read' | 'write', fd: number, file: string, bufs: readonly Uint8Array[], position: number): Promise<void>;
export declare const pread: (fd: number, file: string, buf: Uint8Array, position: number) => Promise<void>;
export declare const pwrite: (fd: number, file: string, buf: Uint8Array, position: number) => Promise<void>;
export declare function datasync(fd: number, file: string): Promise<void>;
export declare function truncate(fd: number, file: string, bytes: number): Promise<void>;
