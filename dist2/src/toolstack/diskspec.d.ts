export type DiskFormat = 'raw' | 'qcow' | 'qcow2' | 'vhd' | 'qed' | 'empty';
export type DiskBackendType = 'phy' | 'qdisk' | 'standalone' | 'tap';
export type DiskSpecification = 'xen' | 'virtio';
export type DiskAccess = 'ro' | 'rw';
export interface DiskSpec {
    /** Image or device path; undefined for an empty cdrom drive. */
    readonly target?: string;
    /** 'empty' for a cdrom drive without a medium. Default raw. */
    readonly format: DiskFormat;
    /** The guest's name for the disk, as written (xvda, hdc, sdb1, d3p1, 51712, ...). */
    readonly vdev: string;
    /** The virtual device number that names the device in xenstore (xen-vbd-interface(7)). */
    readonly devid: number;
    /** rw unless the device is a cdrom, which is always read-only. */
    readonly access: DiskAccess;
    readonly cdrom: boolean;
    /** Backend domain name; undefined means domain 0. */
    readonly backend?: string;
    /** Backend implementation; undefined lets the toolstack choose. */
    readonly backendtype?: DiskBackendType;
    /** Default xen. */
    readonly specification: DiskSpecification;
    /** Hotplug script that interprets the target (block-SCRIPT). */
    readonly script?: string;
    readonly directIoSafe: boolean;
    /** Advertise discard to the frontend. Default true. */
    readonly discard: boolean;
    /** Advisory: may the frontend trust the backend. Default true. */
    readonly trusted: boolean;
    /** Grant use for virtio; undefined lets the toolstack choose (xl: on unless the backend is dom0). */
    readonly grantUsage?: boolean;
}
/** A disk specification is malformed; reason says what is wrong. */
export declare class DiskSpecError extends Error {
    readonly spec: string;
    readonly reason: string;
    name: string;
    constructor(spec: string, reason: string);
}
/** Parses one DISKSPEC. Throws DiskSpecError (and nothing else) if it is malformed. */
export declare function parseDiskSpec(spec: string): DiskSpec;
/**
 * The virtual device number of a vdev, as xen-vbd-interface(7) and libxl compute it;
 * undefined if vdev is not valid.
 *   xvd (and dNpN): 202 << 8 | disk << 4 | partition      disks and partitions up to 15
 *                   1 << 28 | disk << 8 | partition       disks up to 2^20-1, partitions up to 255
 *   hd:             3 << 8 | disk << 6 | partition        disks 0..1, partitions 0..63
 *                   22 << 8 | (disk-2) << 6 | partition   disks 2..3
 *   sd:             8 << 8 | disk << 4 | partition        disks and partitions up to 15
 *   a bare number (decimal, 0-octal or 0x-hex) up to 2^31-1 is taken as the device number.
 */
export declare function vdevToDevid(vdev: string): number | undefined;
