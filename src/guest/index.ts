// What guest programs import from 'xenode': the types of the library OS.
export type { OS, GuestConsole } from './os.js';
export type { Time } from './time.js';
export type { Lifecycle, ShutdownRequest } from './lifecycle.js';
export type { XenstoreClient } from '../xenstore/client.js';
export { XenError } from '../errors.js';
