export declare const CREDIT_DEFAULT_WEIGHT = 256;
export declare const CREDIT_MIN_WEIGHT = 1;
export declare const CREDIT_MAX_WEIGHT = 65535;
/** The nice value of a guest of default weight. */
export declare const GUEST_NICE = 10;
/** The nice value for a guest's vCPU thread of credit weight `weight`. */
export declare function niceForWeight(weight: number): number;
