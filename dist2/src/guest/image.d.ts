export declare const GUEST_IMAGE: import("url").URL;
export declare const PCPU_IMAGE: import("url").URL;
export declare const REALM_IMAGE: import("url").URL;
