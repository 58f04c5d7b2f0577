// The xl.cfg syntax: values, lists, +=, duplicate keys, positions, and what xl refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseCInteger, parseXlCfg, type CfgValue } from '../../../src/toolstack/xlcfg.js';

function values(text: string): Record<string, CfgValue> {
  return Object.fromEntries([...parseXlCfg(text, 't.cfg').settings].map(([k, s]) => [k, s.value]));
}

function refuses(text: string, where: RegExp, what: RegExp): ConfigError {
  try {
    parseXlCfg(text, 't.cfg');
  } catch (e) {
    assert.ok(e instanceof ConfigError, `not a ConfigError: ${String(e)}`);
    assert.match(e.message, where);
    assert.match(e.reason, what);
    return e;
  }
  assert.fail(`accepted: ${JSON.stringify(text)}`);
}

test('strings, numbers and lists', () => {
  assert.deepEqual(values(`a = "x"\nb = 'y'\nc = 42\nd = 0755\ne = 0x1f\nf = 0\ng = [ 'p', 1, "q" ]\nh = []\n`), {
    a: 'x', b: 'y', c: 42, d: 0o755, e: 31, f: 0, g: ['p', 1, 'q'], h: [],
  });
});

test('settings end at a newline, a semicolon or the end of the file', () => {
  assert.deepEqual(values('a=1;b=2;;\n\n;c="3"'), { a: 1, b: 2, c: '3' });
  assert.deepEqual(values(''), {});
  assert.deepEqual(values('\n\n# only a comment\n'), {});
});

test('lists span lines, allow comments and a trailing comma, and nest', () => {
  const text = `disk = [\n  'a', # first\n\n  'b'\n  ,\n  'c',\n]\nvnuma = [ [ "pnode=0", "size=512" ], [ "pnode=1" ] ]\n`;
  assert.deepEqual(values(text), { disk: ['a', 'b', 'c'], vnuma: [['pnode=0', 'size=512'], ['pnode=1']] });
});

test('quoted strings take the escapes xl decodes', () => {
  assert.deepEqual(values(String.raw`s = "a\"b\'c\\d\ne\tf\rg\ah\bi\fj\vk"` + `\nt = 'it\\'s # not a comment'`), {
    s: 'a"b\'c\\d\ne\tf\rg\x07h\bi\fj\vk',
    t: "it's # not a comment",
  });
  assert.deepEqual(values('u = "caf\u00e9 \u{1f600}"'), { u: 'caf\u00e9 \u{1f600}' });
});

test('keys may hold dots, digits and underscores', () => {
  assert.deepEqual(values('vif.default.script = "s"\nmax_grant_frames2 = 1'), { 'vif.default.script': 's', max_grant_frames2: 1 });
});

test('the last assignment of a key wins, and takes its place in the order', () => {
  const cfg = parseXlCfg('a = 1\nb = 2\na = "again"\n', 't.cfg');
  assert.deepEqual([...cfg.settings.keys()], ['b', 'a']);
  const a = cfg.settings.get('a')!;
  assert.equal(a.value, 'again');
  assert.deepEqual(a.pos, { line: 3, column: 1 });
  assert.deepEqual(a.valuePos, { line: 3, column: 5 });
});

test('+= appends strings to strings and lists to lists', () => {
  assert.deepEqual(values(`extra = "a"\nextra += " b"\nl = ['x']\nl += ['y', 'z']\nn += "new"`), {
    extra: 'a b', l: ['x', 'y', 'z'], n: 'new',
  });
  const l = parseXlCfg(`l = ['x']\nl += [\n 'y']`, 't.cfg').settings.get('l')!;
  assert.deepEqual(l.itemPos, [{ line: 1, column: 6 }, { line: 3, column: 2 }]);
  refuses(`a = "s"\na += ['l']`, /^t\.cfg:2:6: a: /, /cannot add a list to a string \(set at line 1\)/);
  refuses(`a = ['l']\na += "s"`, /^t\.cfg:2:6: /, /cannot add a string to a list/);
  refuses('a += 1', /^t\.cfg:1:6: a: /, /cannot be used with numbers/);
  refuses('a = 1\na += "x"', /^t\.cfg:2:6: /, /cannot add a string to a number/);
});

test('positions count lines and characters, not bytes', () => {
  const cfg = parseXlCfg('# x\n  a = "\u{1f600}\u00e9"; b = 1\n\tc=[\n 1,\n  2]', 't.cfg');
  assert.deepEqual(cfg.settings.get('a')!.pos, { line: 2, column: 3 });
  assert.deepEqual(cfg.settings.get('b')!.pos, { line: 2, column: 13 });
  assert.deepEqual(cfg.settings.get('c')!.pos, { line: 3, column: 2 });
  assert.deepEqual(cfg.settings.get('c')!.itemPos, [{ line: 4, column: 2 }, { line: 5, column: 3 }]);
});

test('errors are ConfigErrors formatted FILE:LINE:COL: message', () => {
  const e = refuses('name = "x"\nmemory = 12 34\n', /^t\.cfg:2:13: /, /expected end of line or ';'/);
  assert.equal(e.file, 't.cfg');
  assert.equal(e.line, 2);
  assert.equal(e.column, 13);
  assert.equal(e.name, 'ConfigError');
  assert.ok(e instanceof Error);
});

test('booleans are numbers: bare words are refused with a hint', () => {
  refuses('acpi = true', /^t\.cfg:1:8: /, /bare word 'true'.*0 or 1/);
  refuses('name = web', /^t\.cfg:1:8: /, /quote strings \("web"\)/);
});

test('numbers: decimal, octal and lowercase hex only, as xl lexes them', () => {
  refuses('a = 08', /1:5/, /'08' is not a number/);
  refuses('a = 0xFF', /1:5/, /lowercase/);
  refuses('a = 0x', /1:5/, /'0x'/);
  refuses('a = 1.5', /1:5/, /'1\.5'/);
  refuses('a = 12k', /1:5/, /'12k'/);
  refuses('a = 123456789012345678901', /1:5/, /2\^53-1/);
  refuses('a = -1', /1:5/, /Python/);
  refuses('a = +1', /1:5/, /Python/);
});

test('syntax errors say what was expected', () => {
  refuses('= 1', /1:1/, /expected a setting KEY = VALUE, found '='/);
  refuses('a 1', /1:3/, /expected '=' or '\+=' after 'a'/);
  refuses('a =', /1:4/, /expected a value.*found end of file/);
  refuses('a =\n1', /1:4/, /found end of line/);
  refuses('a = [1,,2]', /1:8/, /expected a value/);
  refuses('a = [,]', /1:6/, /expected a value/);
  refuses('a = [1 2]', /1:8/, /expected ',' or '\]' in the list opened at line 1/);
  refuses('a = [1,\n2\n', /1:5/, /not closed/);
  refuses('a = [', /1:5/, /not closed/);
  refuses('a = ]', /1:5/, /found '\]'/);
  refuses('a = 1 = 2', /1:7/, /found '='/);
  refuses('[1]', /1:1/, /expected a setting/);
});

test('strings: unterminated, multi-line, bad escapes and numeric escapes are refused', () => {
  refuses('a = "abc', /1:5/, /not closed.*double quote/);
  refuses("a = 'abc\n'", /1:5/, /single quote/);
  refuses('a = "a\\\nb"', /1:7/, /backslash at the end of the line/);
  refuses('a = "\\q"', /1:6/, /unknown escape '\\q'/);
  refuses('a = "\\x41"', /1:6/, /numeric escape/);
  refuses('a = "\\101"', /1:6/, /numeric escape/);
  refuses('a = "\\', /1:6/, /backslash/);
  refuses('a = "x\0y"', /1:7/, /NUL/);
});

test('characters xl does not accept outside strings', () => {
  refuses('Name = "x"', /1:1/, /keys are lowercase/);
  refuses('a = 1\r\nb = 2', /1:6/, /Unix \(LF\) line endings/);
  refuses('\ufeffa = 1', /1:1/, /byte-order mark/);
  refuses('a = (1)', /1:5/, /Python/);
  refuses('a.b = 1\nc = a.b', /2:5/, /bare word 'a\.b'/);
  refuses('a = 1 @', /1:7/, /unexpected character '@'/);
  refuses('a = \u00e9', /1:5/, /U\+00E9 outside a quoted string/);
  refuses('a = 1\x01', /1:6/, /U\+0001/);
});

test('a comment on the last line needs no newline (xl would refuse it)', () => {
  assert.deepEqual(values('a = 1 # done'), { a: 1 });
});

test('lists nest only so deep', () => {
  assert.deepEqual(values(`a = ${'['.repeat(32)}${']'.repeat(32)}`).a, JSON.parse('['.repeat(32) + ']'.repeat(32)));
  refuses(`a = ${'['.repeat(100000)}`, /1:37/, /nested more than 32 deep/);
});

test('parseCInteger reads C integer literals exactly', () => {
  assert.equal(parseCInteger('0'), 0);
  assert.equal(parseCInteger('10'), 10);
  assert.equal(parseCInteger('010'), 8);
  assert.equal(parseCInteger('0x10'), 16);
  assert.equal(parseCInteger('0XaB'), 171);
  assert.equal(parseCInteger('9007199254740991'), Number.MAX_SAFE_INTEGER);
  for (const bad of ['', ' 1', '1 ', '-1', '+1', '09', '0x', '1e3', '0b1', '9007199254740992', '1_000']) {
    assert.equal(parseCInteger(bad), undefined, bad);
  }
});

/** What parsing `text` gives: every setting with its positions, or the error's message; lines counted from `first`. */
function outcome(text: string, first = 1): unknown {
  const line = (n: number) => n - first + 1;
  const at = (p: { line: number; column: number }) => ({ line: line(p.line), column: p.column });
  try {
    return [...parseXlCfg(text, 't.cfg').settings.values()].map((s) => ({ ...s, pos: at(s.pos), valuePos: at(s.valuePos), itemPos: s.itemPos.map(at) }));
  } catch (e) {
    assert.ok(e instanceof ConfigError, `not a ConfigError: ${String(e)}`);
    return e.message.replace(/^t\.cfg:(\d+):/, (_, n: string) => `t.cfg:${line(Number(n))}:`).replace(/line (\d+)/g, (_, n: string) => `line ${line(Number(n))}`);
  }
}

test("files of simple lines (a create's) read as the full parser reads them, errors included", () => {
  // A first line holding only ';' makes the file the full parser's (the simple-line reading
  // refuses it) and changes nothing after it: each text is read both ways, to the same.
  // Each part of a line is one a create's file has, or else (one time in five) one that is not.
  const parts: [string[], string[]][] = [
    [['name', 'memory', 'a.b_1', ' kernel', '\tpool'], ['Name', '1a', '']],
    [['=', ' = ', '\t=\t'], ['+=', '==', ' ']],
    [['"s"', "'t'", `"a'b"`, `'a"b'`, '"x # y"', '32', '0x1f', '0755', '0', '"\u00e9\u{1f600}"', '"\r"'],
      ['09', '0x', '12k', '0x1F', '9007199254740992', '"open', '"bs\\n"', '[ 1 ]', '', '"\0"', 'true', '1.5']],
    [['', ' ', ' # c', '#c'], [';', '\r', ' x', '\u2028']],
  ];
  let seed = 18;
  const pick = <T>(xs: readonly T[]): T => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return xs[(seed >> 8) % xs.length]!;
  };
  const line = () => (pick([0, 1, 2, 3, 4, 5, 6, 7]) === 0 ? pick(['', '# note', '  ']) : parts.map(([good, bad]) => pick(pick([good, good, good, good, bad]))).join(''));
  let simple = 0;
  for (let i = 0; i < 3000; i++) {
    const lines = Array.from({ length: 1 + (i % 4) }, line);
    const text = lines.join('\n') + pick(['', '\n']);
    const got = outcome(text);
    assert.deepEqual(got, outcome(`;\n${text}`, 2), JSON.stringify(text));
    if (Array.isArray(got) && got.length > 0 && !/[;[+]/.test(text)) simple++;
  }
  assert.ok(simple > 100, `${simple} texts were simple lines`);
});
