// XML-RPC as XAPI speaks it: a methodCall in, a methodResponse out whose one value is XAPI's
// envelope ({Status, Value} or {Status, ErrorDescription}). Parsing is saxes (a strict,
// streaming XML 1.0 parser) under our limits: no DOCTYPE at all (so no entity expansion and no
// external entities, the billion-laughs and XXE classes), a bounded nesting depth and element
// count. Writing is ours (see `value`). XAPI writes strings as bare <value>text</value>, ints (64-bit)
// as strings, floats as <double>, and no whitespace between elements: the xen-api client
// parses without trimming and depends on that.
import { SaxesParser } from 'saxes';
import { XapiError } from './errors.js';
import { joinPieces, writeRecord, type Pieces } from './shared.js';
import { Double, xapiDate, type XValue } from './types.js';

export interface XmlLimits {
  /** Elements nested deeper than this are refused (a struct of a struct is 4 levels). */
  readonly maxDepth: number;
  /** Elements in one document. */
  readonly maxElements: number;
}

export const XML_LIMITS: XmlLimits = { maxDepth: 64, maxElements: 100_000 };

/** A request that is not well-formed XML-RPC: the transport answers it with an HTTP error. */
export class XmlRpcParseError extends Error {
  override name = 'XmlRpcParseError';
}

interface Node {
  readonly name: string;
  readonly children: Node[];
  text: string;
}

function parseTree(xml: string, limits: XmlLimits): Node {
  const parser = new SaxesParser({ position: false });
  const root: Node = { name: '', children: [], text: '' };
  const stack: Node[] = [root];
  let elements = 0;
  const fail = (why: string): never => {
    throw new XmlRpcParseError(why);
  };
  parser.on('error', (e) => fail(e.message));
  parser.on('doctype', () => fail('a DOCTYPE is not allowed'));
  parser.on('processinginstruction', () => fail('processing instructions are not allowed'));
  parser.on('opentag', (tag) => {
    if (++elements > limits.maxElements) fail(`more than ${limits.maxElements} elements`);
    if (stack.length > limits.maxDepth) fail(`elements nested deeper than ${limits.maxDepth}`);
    const node: Node = { name: tag.name, children: [], text: '' };
    stack[stack.length - 1]!.children.push(node);
    stack.push(node);
  });
  parser.on('closetag', () => void stack.pop());
  parser.on('text', (t) => (stack[stack.length - 1]!.text += t));
  parser.on('cdata', (t) => (stack[stack.length - 1]!.text += t));
  parser.write(xml).close();
  return root;
}

function only(n: Node, name: string): Node {
  const c = n.children.find((x) => x.name === name);
  if (!c) throw new XmlRpcParseError(`<${n.name}> has no <${name}>`);
  return c;
}

function decodeValue(v: Node): XValue {
  if (v.name !== 'value') throw new XmlRpcParseError(`<${v.name}> where a <value> belongs`);
  if (v.children.length === 0) return v.text;
  if (v.children.length > 1) throw new XmlRpcParseError('a <value> holds one type');
  const t = v.children[0]!;
  switch (t.name) {
    case 'string':
      return t.text;
    case 'int':
    case 'i4':
    case 'i8': {
      const n = Number(t.text.trim());
      if (!Number.isSafeInteger(n)) throw new XmlRpcParseError(`<${t.name}>${t.text.slice(0, 32)}</${t.name}> is not an integer`);
      return n;
    }
    case 'double': {
      const n = Number(t.text.trim());
      if (Number.isNaN(n) || t.text.trim() === '') throw new XmlRpcParseError('a <double> that is not a number');
      return n;
    }
    case 'boolean': {
      const b = t.text.trim();
      if (b !== '0' && b !== '1') throw new XmlRpcParseError('a <boolean> is 0 or 1');
      return b === '1';
    }
    case 'dateTime.iso8601':
      return t.text.trim();
    case 'nil':
      return null;
    case 'array':
      return only(t, 'data').children.map(decodeValue);
    case 'struct': {
      const out: Record<string, XValue> = Object.create(null) as Record<string, XValue>;
      for (const m of t.children) {
        if (m.name !== 'member') throw new XmlRpcParseError(`<${m.name}> in a <struct>`);
        out[only(m, 'name').text] = decodeValue(only(m, 'value'));
      }
      return out;
    }
    default:
      throw new XmlRpcParseError(`XML-RPC type <${t.name}> is not supported`);
  }
}

export interface MethodCall {
  readonly method: string;
  readonly params: XValue[];
}

/** A methodCall, or XmlRpcParseError. */
export function decodeMethodCall(xml: string, limits: XmlLimits = XML_LIMITS): MethodCall {
  const doc = parseTree(xml, limits);
  const call = doc.children[0];
  if (!call || call.name !== 'methodCall') throw new XmlRpcParseError('not an XML-RPC <methodCall>');
  const method = only(call, 'methodName').text.trim();
  const params = call.children.find((x) => x.name === 'params');
  return { method, params: params ? params.children.map((p) => decodeValue(only(p, 'value'))) : [] };
}

/** Characters XML 1.0 cannot carry (controls, lone surrogates, U+FFFE/F) become U+FFFD. */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const SUSPECT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;
const MARKUP = /[&<>]/;
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** Text as XML character data: escaped, and what XML cannot carry replaced. */
function text(s: string): string {
  // Most text needs neither: test first, replace only then.
  if (SUSPECT.test(s)) s = s.replace(NOT_XML, '\uFFFD');
  return MARKUP.test(s) ? s.replace(/[&<>]/g, (c) => ESCAPES[c]!) : s;
}

/**
 * One <value>. The grammar written is XML-RPC's fixed handful of elements, with every piece of
 * text escaped: a writer this small is ~100x faster than a general XML builder (docs/XENAPI.md,
 * "Transports"), and XAPI's clients need values written the way XAPI writes them anyway. A
 * shared record (shared.ts) is written once and then taken as written.
 */
function value(v: XValue, out: Pieces): void {
  if (typeof v === 'string') out.push(v === '' ? '<value/>' : `<value>${text(v)}</value>`);
  else if (typeof v === 'number') out.push(Number.isInteger(v) ? `<value>${v}</value>` : `<value><double>${v}</double></value>`);
  else if (typeof v === 'boolean') out.push(v ? '<value><boolean>1</boolean></value>' : '<value><boolean>0</boolean></value>');
  else if (v === null) out.push('<value><nil/></value>');
  else if (v instanceof Double) out.push(`<value><double>${v.value}</double></value>`);
  else if (v instanceof Date) out.push(`<value><dateTime.iso8601>${xapiDate(v)}</dateTime.iso8601></value>`);
  else if (Array.isArray(v)) {
    out.push('<value><array><data>');
    for (const x of v as readonly XValue[]) value(x, out);
    out.push('</data></array></value>');
  } else writeRecord(v as { readonly [k: string]: XValue }, 'xml', out, struct);
}

function struct(v: { readonly [k: string]: XValue }, out: Pieces): void {
  out.push('<value><struct>');
  for (const [k, x] of Object.entries(v)) {
    out.push(`<member><name>${text(k)}</name>`);
    value(x, out);
    out.push('</member>');
  }
  out.push('</struct></value>');
}

/** A methodResponse with XAPI's envelope: the call's value, or its error. */
export function encodeResponse(result: { ok: true; value: XValue } | { ok: false; error: XapiError }): Buffer {
  const out: Pieces = ['<?xml version="1.0"?><methodResponse><params><param>'];
  value(result.ok ? { Status: 'Success', Value: result.value } : { Status: 'Failure', ErrorDescription: result.error.description }, out);
  out.push('</param></params></methodResponse>');
  return joinPieces(out);
}

/** One value as a document fragment: a task's result field holds its XML-RPC value. */
export function encodeValue(v: XValue): string {
  const out: Pieces = [];
  value(v, out);
  return joinPieces(out).toString();
}
