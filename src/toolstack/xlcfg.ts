// The xl.cfg syntax, as libxlutil's parser (libxlu_cfg_l.l / libxlu_cfg_y.y) accepts it:
//
//   file     := { [KEY ('=' | '+=') VALUE] (NEWLINE | ';') }   (the last setting may end at EOF)
//   KEY      := [a-z][._0-9a-z]*
//   VALUE    := STRING | NUMBER | '[' {NEWLINE} [VALUE {NEWLINE} {',' {NEWLINE} VALUE {NEWLINE}} [',' {NEWLINE}]] ']'
//   STRING   := '...' | "..."     no raw newline; escapes \' \" \\ \a \b \f \n \r \t \v
//   NUMBER   := decimal | 0-prefixed octal | 0x-prefixed hex (xl's lexer takes only [0-9a-fx])
//   comments run from '#' to the end of the line; spaces and tabs separate tokens.
//
// There are no booleans at this level: xl reads a boolean as a NUMBER, 0 is false and anything
// else true, so `true`/`false` are bare words, which xl rejects. Lists may nest (xl's vnuma=
// uses that).
//
// Duplicate keys: xl keeps every setting and looks keys up newest first, so the last
// assignment wins. We do the same and keep only that assignment (and its position).
// `KEY += VALUE` appends to the previous value of KEY: string to string, list to list; with
// no previous value it is a plain assignment. xl refuses `+=` for numbers (when it reads the
// key); we refuse it as soon as we see it.
//
// Where xl is broken we refuse instead of copying the breakage, so that a file we accept means
// the same to xl: numeric escapes (\xHH, \NNN) never decode in xl (\x always fails, \NNN
// drops the character). One leniency: xl rejects a `#` comment on the last line when the file
// does not end with a newline; we accept it.

/** Where a token starts: 1-based line and column (columns count characters). */
export interface CfgPosition {
  readonly line: number;
  readonly column: number;
}

export type CfgScalar = string | number;
export type CfgValue = CfgScalar | readonly CfgValue[];

export interface CfgSetting {
  readonly key: string;
  readonly value: CfgValue;
  /** Position of the key in the assignment that set it last. */
  readonly pos: CfgPosition;
  /** Position of the value (of the last `+=` operand for appended values). */
  readonly valuePos: CfgPosition;
  /** Positions of the top-level list items, when value is a list. */
  readonly itemPos: readonly CfgPosition[];
}

export interface XlConfig {
  readonly file: string;
  /** In the order of the assignments that set them last. */
  readonly settings: ReadonlyMap<string, CfgSetting>;
}

/** A configuration file is wrong; the message says where (FILE:LINE:COL) and what. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly file: string;
  readonly line: number;
  readonly column: number;
  constructor(file: string, pos: CfgPosition, readonly reason: string, readonly key?: string) {
    super(`${file}:${pos.line}:${pos.column}: ${key === undefined ? '' : `${key}: `}${reason}`);
    this.file = file;
    this.line = pos.line;
    this.column = pos.column;
  }
}

/**
 * A C integer literal as strtol(s, NULL, 0) reads it when it consumes the whole string:
 * decimal, octal with a leading 0, hex with 0x. Undefined if s is not one, or not exactly
 * representable.
 */
export function parseCInteger(s: string): number | undefined {
  let n: number;
  if (/^[1-9][0-9]*$/.test(s)) n = parseInt(s, 10);
  else if (/^0[xX][0-9a-fA-F]+$/.test(s)) n = parseInt(s.slice(2), 16);
  else if (/^0[0-7]*$/.test(s)) n = parseInt(s, 8);
  else return undefined;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Deep enough for any real configuration (xl's vnuma= nests two levels). */
const MAX_LIST_DEPTH = 32;

type TokenKind = 'ident' | 'number' | 'string' | '=' | '+=' | ',' | '[' | ']' | ';' | 'newline' | 'eof';

interface Token {
  readonly kind: TokenKind;
  readonly pos: CfgPosition;
  readonly text: string;
  readonly value?: CfgScalar;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"', "'": "'", '\\': '\\', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v',
};

/** Characters that end a run of plain characters inside a string. */
const STRING_SPECIAL = new Set(['"', "'", '\\', '\n', '\0']);

/** Characters that make xl print its "looks like Python" warning. */
const PYTHONISH = new Set(['+', '-', '.', '(', ')', ':']);

class Lexer {
  #i = 0;
  #line = 1;
  #col = 1;

  constructor(readonly text: string, readonly file: string) {}

  error(pos: CfgPosition, reason: string): ConfigError {
    return new ConfigError(this.file, pos, reason);
  }

  #pos(): CfgPosition {
    return { line: this.#line, column: this.#col };
  }

  /** Moves over one UTF-16 unit; a surrogate pair counts as one column. */
  #advance(): void {
    const c = this.text.charCodeAt(this.#i++);
    if (c === 0x0a) {
      this.#line++;
      this.#col = 1;
    } else if (c < 0xdc00 || c > 0xdfff) {
      this.#col++;
    }
  }

  /** Takes a run of word characters: [._0-9a-z], and A-Z too if upper. None is a newline. */
  #word(upper: boolean): string {
    const start = this.#i;
    for (;;) {
      const c = this.text.charCodeAt(this.#i);
      const lower = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x5f;
      if (!lower && !(upper && c >= 0x41 && c <= 0x5a)) break;
      this.#i++;
    }
    this.#col += this.#i - start;
    return this.text.slice(start, this.#i);
  }

  next(): Token {
    for (;;) {
      const c = this.text[this.#i];
      if (c === ' ' || c === '\t') {
        this.#advance();
      } else if (c === '#') {
        while (this.#i < this.text.length && this.text[this.#i] !== '\n') this.#advance();
      } else {
        break;
      }
    }
    const pos = this.#pos();
    const c = this.text[this.#i];
    if (c === undefined) return { kind: 'eof', pos, text: '' };
    if (c === '\n') {
      this.#advance();
      return { kind: 'newline', pos, text: '\n' };
    }
    if (c >= 'a' && c <= 'z') return { kind: 'ident', pos, text: this.#word(false) };
    if (c >= '0' && c <= '9') return this.#number(pos);
    if (c === '"' || c === "'") return this.#string(pos, c);
    if (c === '+' && this.text[this.#i + 1] === '=') {
      this.#advance();
      this.#advance();
      return { kind: '+=', pos, text: '+=' };
    }
    if (c === '=' || c === ',' || c === '[' || c === ']' || c === ';') {
      this.#advance();
      return { kind: c, pos, text: c };
    }
    throw this.error(pos, this.#badCharacter(c));
  }

  #badCharacter(c: string): string {
    if (c === '\r') return 'carriage return: save the file with Unix (LF) line endings';
    if (c >= 'A' && c <= 'Z') {
      return `unexpected '${c}': keys are lowercase ([a-z][._0-9a-z]*) and string values are quoted`;
    }
    if (PYTHONISH.has(c)) {
      return `unexpected '${c}': this looks like Python, which xl.cfg is not ` +
        '(no expressions or negative numbers; quote strings)';
    }
    if (c === '\ufeff') return 'byte-order mark (U+FEFF): save the file as UTF-8 without a BOM';
    const code = this.text.codePointAt(this.#i)!;
    const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
    const shown = code > 0x20 && code < 0x7f ? `'${c}'` : hex;
    return `unexpected character ${shown} outside a quoted string`;
  }

  #number(pos: CfgPosition): Token {
    // Take what a person would see as one word, so that 0xFF or 12k is reported whole.
    const text = this.#word(true);
    const value = /^[0-9a-fx]+$/.test(text) ? parseCInteger(text) : undefined;
    if (value === undefined) {
      throw this.error(pos, `'${text}' is not a number xl accepts: write decimal (512), octal with a ` +
        'leading 0 (0755) or hex with 0x and lowercase digits (0x1f), at most 2^53-1; quote it if it is a string');
    }
    return { kind: 'number', pos, text, value };
  }

  #string(pos: CfgPosition, quote: string): Token {
    this.#advance();
    let out = '';
    for (;;) {
      const c = this.text[this.#i];
      if (c === undefined || c === '\n') {
        throw this.error(pos, `string is not closed: add the ${quote === '"' ? 'double' : 'single'} quote ` +
          'before the end of the line (a string cannot span lines)');
      }
      if (c === quote) {
        this.#advance();
        return { kind: 'string', pos, text: quote, value: out };
      }
      if (c === '\\') {
        const escPos = this.#pos();
        this.#advance();
        const e = this.text[this.#i];
        const plain = e === undefined ? undefined : SIMPLE_ESCAPES[e];
        if (plain === undefined) throw this.error(escPos, this.#badEscape(e));
        out += plain;
        this.#advance();
        continue;
      }
      if (c === '\0') throw this.error(this.#pos(), 'NUL byte inside a string');
      // c is plain here (it may be the other quote character); take it and the plain run after it.
      const start = this.#i;
      do this.#advance(); while (this.#i < this.text.length && !STRING_SPECIAL.has(this.text[this.#i]!));
      out += this.text.slice(start, this.#i);
    }
  }

  #badEscape(e: string | undefined): string {
    if (e === 'x' || (e !== undefined && /[0-7]/.test(e))) {
      return `numeric escape '\\${e}...' is not supported (xl does not decode numeric escapes): ` +
        'write the character itself';
    }
    if (e === undefined || e === '\n') return 'backslash at the end of the line: a string cannot span lines';
    return `unknown escape '\\${e}': use \\' \\" \\\\ \\a \\b \\f \\n \\r \\t or \\v`;
  }
}

class Parser {
  readonly #lx: Lexer;
  #tok: Token;
  readonly #settings = new Map<string, CfgSetting>();

  constructor(text: string, readonly file: string) {
    this.#lx = new Lexer(text, file);
    this.#tok = this.#lx.next();
  }

  #shift(): Token {
    const t = this.#tok;
    this.#tok = this.#lx.next();
    return t;
  }

  #skipNewlines(): void {
    while (this.#tok.kind === 'newline') this.#shift();
  }

  #describe(t: Token): string {
    switch (t.kind) {
      case 'eof': return 'end of file';
      case 'newline': return 'end of line';
      case 'string': return 'a string';
      default: return `'${t.text}'`;
    }
  }

  parse(): XlConfig {
    for (;;) {
      const t = this.#tok;
      if (t.kind === 'eof') return { file: this.file, settings: this.#settings };
      if (t.kind === 'newline' || t.kind === ';') {
        this.#shift();
        continue;
      }
      if (t.kind !== 'ident') {
        throw this.#lx.error(t.pos, `expected a setting KEY = VALUE, found ${this.#describe(t)}`);
      }
      this.#assignment();
      const end = this.#tok;
      if (end.kind === 'newline' || end.kind === ';') this.#shift();
      else if (end.kind !== 'eof') {
        throw this.#lx.error(end.pos, `expected end of line or ';' after the value, found ${this.#describe(end)}`);
      }
    }
  }

  #assignment(): void {
    const keyTok = this.#shift();
    const key = keyTok.text;
    const op = this.#tok;
    if (op.kind !== '=' && op.kind !== '+=') {
      throw this.#lx.error(op.pos, `expected '=' or '+=' after '${key}', found ${this.#describe(op)}`);
    }
    this.#shift();
    const valuePos = this.#tok.pos;
    const itemPos: CfgPosition[] = [];
    const value = this.#value(0, itemPos);
    const prev = this.#settings.get(key);
    if (op.kind === '+=') {
      if (typeof value === 'number') throw new ConfigError(this.file, valuePos, "'+=' cannot be used with numbers", key);
      if (prev !== undefined) {
        this.#store(key, keyTok.pos, valuePos, ...this.#append(key, prev, value, itemPos, valuePos));
        return;
      }
    }
    this.#store(key, keyTok.pos, valuePos, value, itemPos);
  }

  #append(key: string, prev: CfgSetting, value: CfgValue, itemPos: CfgPosition[], valuePos: CfgPosition):
    [CfgValue, CfgPosition[]] {
    if (typeof prev.value === 'string' && typeof value === 'string') return [prev.value + value, []];
    if (Array.isArray(prev.value) && Array.isArray(value)) {
      return [[...prev.value, ...value], [...prev.itemPos, ...itemPos]];
    }
    const kind = (v: CfgValue): string => (Array.isArray(v) ? 'a list' : typeof v === 'string' ? 'a string' : 'a number');
    throw new ConfigError(this.file, valuePos,
      `'+=' cannot add ${kind(value)} to ${kind(prev.value)} (set at line ${prev.pos.line})`, key);
  }

  #store(key: string, pos: CfgPosition, valuePos: CfgPosition, value: CfgValue, itemPos: CfgPosition[]): void {
    // Re-inserting moves the key to where its effective assignment is.
    this.#settings.delete(key);
    this.#settings.set(key, { key, value, pos, valuePos, itemPos });
  }

  #unclosed(open: Token): ConfigError {
    return this.#lx.error(open.pos, "this list is not closed: ']' is missing before the end of the file");
  }

  /** itemPos, if given, receives the positions of this list's items. */
  #value(depth: number, itemPos?: CfgPosition[]): CfgValue {
    const t = this.#tok;
    if (t.kind === 'string' || t.kind === 'number') {
      this.#shift();
      return t.value!;
    }
    if (t.kind === '[') return this.#list(depth, itemPos);
    if (t.kind === 'ident') {
      throw this.#lx.error(t.pos, `bare word '${t.text}' is not a value: quote strings ("${t.text}"); ` +
        'booleans are written 0 or 1');
    }
    throw this.#lx.error(t.pos, `expected a value (a quoted string, a number or a [list]), found ${this.#describe(t)}`);
  }

  #list(depth: number, itemPos?: CfgPosition[]): CfgValue[] {
    const open = this.#shift();
    if (depth >= MAX_LIST_DEPTH) throw this.#lx.error(open.pos, `lists nested more than ${MAX_LIST_DEPTH} deep`);
    const items: CfgValue[] = [];
    this.#skipNewlines();
    for (;;) {
      if (this.#tok.kind === ']') break;
      if (this.#tok.kind === 'eof') throw this.#unclosed(open);
      itemPos?.push(this.#tok.pos);
      items.push(this.#value(depth + 1));
      this.#skipNewlines();
      const sep = this.#tok;
      if (sep.kind === ',') {
        this.#shift();
        this.#skipNewlines();
      } else if (sep.kind === 'eof') {
        throw this.#unclosed(open);
      } else if (sep.kind !== ']') {
        throw this.#lx.error(sep.pos,
          `expected ',' or ']' in the list opened at line ${open.pos.line}, found ${this.#describe(sep)}`);
      }
    }
    this.#shift();
    return items;
  }
}

/**
 * One line of the common form: `KEY = VALUE` where VALUE is a string without escapes or a
 * number, then perhaps a comment; or a blank or comment-only line (no KEY). Anything else
 * (lists, `+=`, `;`, escapes, errors) is the full parser's.
 */
const SIMPLE_LINE = /^([ \t]*)(?:([a-z][._0-9a-z]*)([ \t]*=[ \t]*)(?:"([^"\\\n\0]*)"|'([^'\\\n\0]*)'|([0-9][0-9a-fx]*)))?[ \t]*(?:#.*)?$/;

/**
 * The settings of a file made of simple lines only (SIMPLE_LINE, each key once), as the full
 * parser reads them, or undefined for any other file. A create's configuration is such a file
 * (name, kernel, memory, pool): one match per line, not a token object per word.
 */
function simpleSettings(text: string, file: string): XlConfig | undefined {
  const settings = new Map<string, CfgSetting>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = SIMPLE_LINE.exec(lines[i]!);
    if (!m) return undefined;
    const key = m[2];
    if (key === undefined) continue;
    if (settings.has(key)) return undefined; // the last one wins, where the full parser put it
    const column = m[1]!.length + 1;
    const value = m[6] === undefined ? (m[4] ?? m[5]!) : parseCInteger(m[6]);
    if (value === undefined) return undefined; // not a number xl takes: the full parser says why
    const line = i + 1;
    settings.set(key, { key, value, pos: { line, column }, valuePos: { line, column: column + key.length + m[3]!.length }, itemPos: [] });
  }
  return { file, settings };
}

/** Parses xl.cfg text. Throws ConfigError (and nothing else) on any malformed input. */
export function parseXlCfg(text: string, file: string): XlConfig {
  return simpleSettings(text, file) ?? new Parser(text, file).parse();
}
