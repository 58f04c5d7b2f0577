// The host's audit log of XenAPI: every call that changes something, and every login, as one
// JSON object per line in the state dir (audit.log), with who made it (the session's user and
// where from) and how it ended (ok, or XAPI's error code). Bounded and rotated as the host's log
// is (logfile.ts). Parameters are logged as refs and short strings; passwords never.
import { LogFile, type LogFileOptions } from '../toolstack/logfile.js';
import type { XValue } from './types.js';

export interface AuditEntry {
  /** The user (the login name), or the name a failed login gave. */
  readonly user: string;
  /** Where the call came from: a TCP peer's address, or "unix". */
  readonly source: string;
  /** The session's uuid ('' for a login that failed). */
  readonly session: string;
  readonly call: string;
  readonly args: readonly string[];
  /** "ok", or XAPI's error code. */
  readonly result: string;
}

export interface AuditSink {
  record(e: AuditEntry): void;
}

/** A parameter as the log shows it: strings and numbers cut short, structures by their keys. */
export function auditArg(v: XValue): string {
  if (typeof v === 'string') return v.length > 80 ? `${v.slice(0, 80)}...` : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.length}]`;
  if (v && typeof v === 'object' && !(v instanceof Date)) return `{${Object.keys(v).slice(0, 20).join(',')}}`;
  return String(v);
}

export class AuditLog implements AuditSink {
  readonly #file: LogFile;

  constructor(path: string, limits: Omit<LogFileOptions, 'droppedLine'> = {}) {
    this.#file = new LogFile(path, {
      ...limits,
      droppedLine: (n) => JSON.stringify({ time: new Date().toISOString(), dropped: n }),
    });
  }

  record(e: AuditEntry): void {
    this.#file.append(JSON.stringify({ time: new Date().toISOString(), ...e }));
  }

  flushed(): Promise<void> {
    return this.#file.flush();
  }

  close(): Promise<void> {
    return this.#file.close();
  }
}
