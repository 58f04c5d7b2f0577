/** True if every step ran: a step that fails is skipped silently, and so would warm nothing. */
export declare function warmUp(): Promise<boolean>;
