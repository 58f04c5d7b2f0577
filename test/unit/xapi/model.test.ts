// The records and calls xenode serves against XAPI's own data model (test/fixtures/
// xapi-datamodel.json, taken from xen-api's doc/data/xenapi.json, which xapi's build writes from
// ocaml/idl/datamodel*.ml): every field served is one of its class's fields there, every value
// served has that field's type (enums within their values), and every call served is one of the
// class's messages. A misspelt field, a value of the wrong type or an invented call fails here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SERVED_CLASSES, servedFields } from '../../../src/xapi/model.js';
import { GUESTS, jsonCall, rootSession, startInProcessXapi, type InProcessXapi } from '../../support/xapi.js';

interface Datamodel {
  readonly classes: Record<string, { readonly fields: Record<string, string>; readonly messages: string[] }>;
  readonly enums: Record<string, string[]>;
}

const MODEL = JSON.parse(readFileSync(fileURLToPath(new URL('../../../../test/fixtures/xapi-datamodel.json', import.meta.url)), 'utf8')) as Datamodel;

let x: InProcessXapi;
let root: string;

before(async () => {
  x = await startInProcessXapi('xapi-model');
  root = await rootSession(x.unix);
});
after(() => x.close());

async function ok<T>(method: string, ...params: unknown[]): Promise<T> {
  const r = await jsonCall(x.unix, method, [root, ...params]);
  assert.equal(r.error, undefined, `${method}: ${JSON.stringify(r.error)}`);
  return r.result as T;
}

/** Why `v` (as JSON-RPC carries it) is not of the datamodel type `type`; undefined if it is. */
function typeProblem(type: string, v: unknown): string | undefined {
  const map = /^\((.+) -> (.+)\) map$/.exec(type);
  if (map) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return `not a map: ${JSON.stringify(v)}`;
    for (const x of Object.values(v)) {
      const p = typeProblem(map[2]!, x);
      if (p) return p;
    }
    return undefined;
  }
  if (type.endsWith(' set')) {
    if (!Array.isArray(v)) return `not a set: ${JSON.stringify(v)}`;
    for (const x of v) {
      const p = typeProblem(type.slice(0, -4), x);
      if (p) return p;
    }
    return undefined;
  }
  if (type.endsWith(' ref')) return typeof v === 'string' && v.startsWith('OpaqueRef:') ? undefined : `not a ref: ${JSON.stringify(v)}`;
  if (type.startsWith('enum ')) {
    const values = MODEL.enums[type.slice(5)];
    if (!values) return `the enum ${type} is not in the fixture`;
    return values.includes(v as string) ? undefined : `${JSON.stringify(v)} is not one of ${type}: ${values.join(', ')}`;
  }
  switch (type) {
    case 'string': return typeof v === 'string' ? undefined : `not a string: ${JSON.stringify(v)}`;
    case 'int': return Number.isSafeInteger(v) ? undefined : `not an int: ${JSON.stringify(v)}`;
    case 'float': return typeof v === 'number' ? undefined : `not a float: ${JSON.stringify(v)}`;
    case 'bool': return typeof v === 'boolean' ? undefined : `not a bool: ${JSON.stringify(v)}`;
    case 'datetime': return typeof v === 'string' && /^[0-9]{8}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/.test(v) ? undefined : `not a datetime: ${JSON.stringify(v)}`;
    default: return `the type ${type} is not known to this test`;
  }
}

test('every field served is a field of its class in XAPI\'s data model', () => {
  const wrong: string[] = [];
  for (const cls of SERVED_CLASSES) {
    const model = MODEL.classes[cls];
    assert.ok(model, `${cls} is not a class of XAPI's data model`);
    for (const f of servedFields(cls)) if (!Object.hasOwn(model.fields, f)) wrong.push(`${cls}.${f}`);
  }
  assert.deepEqual(wrong, []);
});

test('every value served has its field\'s type in XAPI\'s data model, enums within their values', async () => {
  // Records of every class: a VM with a disk and a vif, running; a VDI; a task (an Async call's).
  const vdi = await x.local.api.call('vdiCreate', { sr: 'default', name: 'model-disk', size: '1M' });
  const net = await x.local.api.call('networkCreate', { name: 'model-net', bridge: 'modelbr0' });
  await x.local.api.call('vmImport', {
    file: '/model.cfg',
    text: `name = "model-vm"\nkernel = "${join(GUESTS, 'ticker.ts')}"\nmemory = 32\ndisk = [ 'vdev=xvda, target=vdi:${vdi.uuid}' ]\nvif = [ 'bridge=${net.bridge}' ]\n`,
  });
  await x.local.api.call('vmStart', { vm: 'model-vm' });
  await ok('Async.network.create', { name_label: 'model-task', bridge: 'modelbr1' });
  const problems: string[] = [];
  let values = 0;
  for (const cls of SERVED_CLASSES) {
    const records = await ok<Record<string, Record<string, unknown>>>(`${cls}.get_all_records`);
    for (const [ref, rec] of Object.entries(records)) {
      for (const [f, v] of Object.entries(rec)) {
        const type = MODEL.classes[cls]!.fields[f];
        const p = type === undefined ? 'not a field of the class' : typeProblem(type, v);
        values++;
        if (p) problems.push(`${cls} ${ref}: ${f} (${type}): ${p}`);
      }
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(values > 200, `${values} values checked`);
  await x.local.api.call('destroy', { domain: 'model-vm' });
});

test('every call served is a message of its class in XAPI\'s data model', async () => {
  const methods = await ok<string[]>('system.listMethods');
  const wrong = methods.filter((m) => m !== 'system.listMethods').filter((m) => {
    const [cls, msg] = m.replace(/^Async\./, '').split('.') as [string, string];
    return !MODEL.classes[cls]?.messages.includes(msg);
  });
  assert.deepEqual(wrong, []);
  assert.ok(methods.includes('VBD.unplug_force') && methods.includes('Async.VM.migrate_send'));
});
