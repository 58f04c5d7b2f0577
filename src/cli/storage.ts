// The storage subcommands, with xe's names, parameters (key=value, xe's spellings and the
// short ones of xenode's docs) and output: sr-list, sr-create, sr-scan, vdi-create, vdi-list,
// vdi-destroy, vdi-resize, vdi-import, vdi-export, vdi-snapshot, vdi-clone, vdi-copy, vdi-migrate, sr-gc. The long ones
// (import, export, copy, migrate, gc) run as tasks (tasks.ts): a progress bar, JSON lines with --json, Ctrl-C cancels. Each is one call of the command API; records print as xe prints
// them (`uuid ( RO)    : ...`), with xe's default columns, or every field with params=all.
import type { Command } from 'commander';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { SrInfo, VdiInfo } from '../toolstack/contract.js';
import type { SrType } from '../toolstack/db/records.js';
import { say, withHost, withStateDir, type StateDirOpts } from './common.js';
import { runTask } from './tasks.js';

/** A parameter's spellings → its name; a value of `undefined` in the result: not given. */
type Spellings = Readonly<Record<string, string>>;

/** xe's key=value words, each key in one of its spellings; `positional` takes a bare word. */
export function xeParams(words: readonly string[], spellings: Spellings, positional?: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const w of words) {
    const eq = w.indexOf('=');
    const key = eq < 0 ? positional : spellings[w.slice(0, eq)];
    if (key === undefined) {
      const known = Object.keys(spellings).join(', ');
      throw new Error(eq < 0 ? `unexpected '${w}': parameters are key=value (${known})` : `unknown parameter '${w.slice(0, eq)}' (known: ${known})`);
    }
    if (out.has(key)) throw new Error(`${key} is given twice`);
    out.set(key, eq < 0 ? w : w.slice(eq + 1));
  }
  return out;
}

export function required(p: Map<string, string>, key: string, how: string): string {
  const v = p.get(key);
  if (v === undefined || v === '') throw new Error(`${key} is required (${how})`);
  return v;
}

/** A field as xe prints a value: maps as `k: v; k2: v2`, sets joined by '; '. */
function xeValue(v: unknown): string {
  if (Array.isArray(v)) return v.map(xeValue).join('; ');
  if (v !== null && typeof v === 'object') return Object.entries(v).map(([k, x]) => `${k}: ${xeValue(x)}`).join('; ');
  return String(v);
}

/** One field of a record: xe's name, read-write or not, its value. */
export type XeField = readonly [name: string, rw: boolean, value: unknown];

/** Records as xe prints them: the names right-aligned, uuid first and left-aligned; a blank line after each. */
export function xeRecords(records: readonly (readonly XeField[])[]): string {
  let out = '';
  for (const fields of records) {
    const label = ([name, rw]: XeField) => `${name} ( ${rw ? 'RW' : 'RO'})`;
    const width = Math.max(...fields.map((f) => label(f).length));
    fields.forEach((f, i) => {
      out += `${i === 0 ? label(f).padEnd(width) : label(f).padStart(width)}: ${xeValue(f[2])}\n`;
    });
    out += '\n';
  }
  return out;
}

/** Every field of a record, under xe's names (XAPI's with '-' for '_'); name and description are RW, as in xe. */
function allFields(record: { uuid: string }): XeField[] {
  const { uuid, ...rest } = record;
  return [['uuid', false, uuid], ...Object.entries(rest).map(([k, v]) => [k.replace(/_/g, '-'), k === 'name_label' || k === 'name_description', v ?? ''] as const)];
}

function srFields(sr: SrInfo, all: boolean): XeField[] {
  if (all) return allFields(sr);
  return [['uuid', false, sr.uuid], ['name-label', true, sr.name_label], ['name-description', true, sr.name_description],
    ['host', false, hostname()], ['type', false, sr.type], ['content-type', false, sr.content_type]];
}

function vdiFields(v: VdiInfo, all: boolean): XeField[] {
  if (all) return allFields(v);
  return [['uuid', false, v.uuid], ['name-label', true, v.name_label], ['name-description', true, v.name_description],
    ['sr-uuid', false, v.sr_uuid], ['virtual-size', false, v.virtual_size], ['sharable', false, v.sharable], ['read-only', false, v.read_only]];
}

interface ListOpts extends StateDirOpts {
  readonly json?: boolean;
  readonly minimal?: boolean;
}

/** xe's list output: records, or with --minimal the uuids joined by commas, or JSON. */
function printList<T extends { uuid: string }>(rows: readonly T[], o: ListOpts, fields: (r: T) => XeField[]): void {
  if (o.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
  else if (o.minimal) process.stdout.write(`${rows.map((r) => r.uuid).join(',')}\n`);
  else process.stdout.write(xeRecords(rows.map(fields)));
}

function listing(cmd: Command): Command {
  return withStateDir(cmd).option('--minimal', 'only the uuids, comma-separated (as xe --minimal)').option('--json', 'the records as JSON');
}

const PARAMS = ['[params...]', 'key=value parameters, as xe takes them'] as const;

/** params=all, or none: xe's default columns. */
function wantsAll(p: Map<string, string>): boolean {
  const v = p.get('params');
  if (v !== undefined && v !== 'all') throw new Error(`params=${v}: only params=all is supported`);
  return v === 'all';
}

export function registerStorageCommands(program: Command): void {
  listing(program.command('sr-list'))
    .description("list storage repositories (xe sr-list); the host's default SR is made on first use")
    .argument(...PARAMS)
    .action(async (words: string[], o: ListOpts) => {
      const all = wantsAll(xeParams(words, { params: 'params' }));
      printList(await withHost(o, (ts) => ts.call('srList', {})), o, (r) => srFields(r, all));
    });

  withStateDir(program.command('sr-create'))
    .description('make a storage repository: type=file path=/dir (a new or empty directory, made if absent), or type=ram; prints its uuid')
    .argument(...PARAMS)
    .action(async (words: string[], o: StateDirOpts) => {
      const p = xeParams(words, {
        name: 'name', 'name-label': 'name', type: 'type', path: 'path', 'device-config:location': 'path', 'name-description': 'description',
      });
      const how = 'sr-create name=NAME type=file|ram [path=DIR]';
      const sr = await withHost(o, (ts) => ts.call('srCreate', {
        name: required(p, 'name', how), type: required(p, 'type', how) as SrType,
        ...(p.has('path') && { path: p.get('path')! }), ...(p.has('description') && { description: p.get('description')! }),
      }));
      process.stdout.write(`${sr.uuid}\n`);
    });

  withStateDir(program.command('sr-scan'))
    .description('reconcile an SR with its files: images found (named <uuid>.<ext>) become VDIs, VDIs whose image is gone are marked missing; nothing is deleted')
    .argument(...PARAMS)
    .action(async (words: string[], o: StateDirOpts) => {
      const p = xeParams(words, { uuid: 'sr', sr: 'sr' }, 'sr');
      const r = await withHost(o, (ts) => ts.call('srScan', { sr: p.get('sr') ?? 'default' }));
      for (const u of r.introduced) say(`introduced VDI ${u}`);
      for (const u of r.missing) say(`missing: VDI ${u} (its image is gone; the record is kept)`);
      for (const u of r.found) say(`found again: VDI ${u}`);
      for (const s of r.skipped) say(`skipped ${s.file}: ${s.why}`);
      for (const d of r.deferred) say(`deferred ${d.journal}: ${d.why}`);
    });

  withStateDir(program.command('vdi-create'))
    .description('make a VDI: sr=SR name=NAME size=SIZE[K|M|G|T] [format=raw]; prints its uuid')
    .argument(...PARAMS)
    .action(async (words: string[], o: StateDirOpts) => {
      const p = xeParams(words, {
        sr: 'sr', 'sr-uuid': 'sr', name: 'name', 'name-label': 'name', size: 'size', 'virtual-size': 'size', format: 'format',
        'sm-config:type': 'format', 'name-description': 'description',
      });
      const how = 'vdi-create sr=SR name=NAME size=SIZE';
      const v = await withHost(o, (ts) => ts.call('vdiCreate', {
        sr: p.get('sr') ?? 'default', name: required(p, 'name', how), size: required(p, 'size', how),
        ...(p.has('format') && { format: p.get('format')! }), ...(p.has('description') && { description: p.get('description')! }),
      }));
      process.stdout.write(`${v.uuid}\n`);
    });

  listing(program.command('vdi-list'))
    .description('list VDIs (xe vdi-list), of one SR with sr=SR')
    .argument(...PARAMS)
    .action(async (words: string[], o: ListOpts) => {
      const p = xeParams(words, { sr: 'sr', 'sr-uuid': 'sr', params: 'params' });
      const all = wantsAll(p);
      const sr = p.get('sr');
      printList(await withHost(o, (ts) => ts.call('vdiList', sr === undefined ? {} : { sr })), o, (r) => vdiFields(r, all));
    });

  withStateDir(program.command('vdi-destroy'))
    .description('destroy a VDI (by name or uuid) and the image xenode made for it; refused while a guest uses it')
    .argument(...PARAMS)
    .action(async (words: string[], o: StateDirOpts) => {
      const p = xeParams(words, { uuid: 'vdi', vdi: 'vdi' }, 'vdi');
      const r = await withHost(o, (ts) => ts.call('vdiDestroy', { vdi: required(p, 'vdi', 'vdi-destroy VDI') }));
      if (r.kept) say(`kept ${r.kept}: xenode did not make that image (sr-scan found it)`);
    });

  withStateDir(program.command('vdi-resize'))
    .description('grow a VDI (by name or uuid) to size=SIZE; refused while a guest uses it')
    .argument(...PARAMS)
    .action(async (words: string[], o: StateDirOpts) => {
      const p = xeParams(words, { uuid: 'vdi', vdi: 'vdi', size: 'size', 'disk-size': 'size' }, 'vdi');
      const how = 'vdi-resize VDI size=SIZE';
      await withHost(o, (ts) => ts.call('vdiResize', { vdi: required(p, 'vdi', how), size: required(p, 'size', how) }));
    });

  withStateDir(program.command('vdi-import'))
    .description('copy an image file (raw, vhd or qcow2, found from its contents) into an SR as a new VDI: sr=SR file=PATH [name=NAME] [format=F]; prints its uuid')
    .argument(...PARAMS)
    .option('--json', 'the new VDI record as JSON')
    .action(async (words: string[], o: StateDirOpts & { json?: boolean }) => {
      const p = xeParams(words, { sr: 'sr', 'sr-uuid': 'sr', file: 'file', filename: 'file', name: 'name', 'name-label': 'name', format: 'format', 'name-description': 'description' });
      const how = 'vdi-import sr=SR file=PATH';
      const v = await withHost(o, (ts) => runTask(ts, { op: 'vdiImport', args: {
        sr: p.get('sr') ?? 'default', file: resolve(required(p, 'file', how)),
        ...(p.has('name') && { name: p.get('name')! }), ...(p.has('format') && { format: p.get('format')! }),
        ...(p.has('description') && { description: p.get('description')! }),
      } }, 'importing', o.json === true));
      process.stdout.write(o.json ? `${JSON.stringify(v)}\n` : `${v.uuid}\n`);
    });

  for (const clone of [false, true]) {
    withStateDir(program.command(clone ? 'vdi-clone' : 'vdi-snapshot'))
      .description(clone ? 'a writable copy of a VDI sharing its base (O(1), as XCP\'s FileSR): VDI name=NAME; prints its uuid'
        : 'a read-only snapshot of a VDI (O(1), live under a running guest, as XCP\'s FileSR): VDI name=NAME; prints its uuid')
      .argument(...PARAMS)
      .option('--json', 'the new VDI record as JSON')
      .action(async (words: string[], o: StateDirOpts & { json?: boolean }) => {
        const p = xeParams(words, { uuid: 'vdi', vdi: 'vdi', name: 'name', 'new-name-label': 'name', 'name-label': 'name', 'name-description': 'description' }, 'vdi');
        const how = `${clone ? 'vdi-clone' : 'vdi-snapshot'} VDI name=NAME`;
        const v = await withHost(o, (ts) => ts.call('vdiSnapshot', {
          vdi: required(p, 'vdi', how), name: required(p, 'name', how), clone, ...(p.has('description') && { description: p.get('description')! }),
        }));
        process.stdout.write(o.json ? `${JSON.stringify(v)}\n` : `${v.uuid}\n`);
      });
  }

  withStateDir(program.command('vdi-copy'))
    .description("a full copy of a VDI (its chain flattened) as a new VDI: VDI [sr=SR] (the VDI's own SR when absent) [name=NAME]; prints its uuid")
    .argument(...PARAMS)
    .option('--json', 'the new VDI record as JSON (progress as JSON lines on stderr)')
    .action(async (words: string[], o: StateDirOpts & { json?: boolean }) => {
      const p = xeParams(words, { uuid: 'vdi', vdi: 'vdi', sr: 'sr', 'sr-uuid': 'sr', name: 'name', 'name-label': 'name' }, 'vdi');
      const v = await withHost(o, (ts) => runTask(ts, { op: 'vdiCopy', args: {
        vdi: required(p, 'vdi', 'vdi-copy VDI [sr=SR]'), ...(p.has('sr') && { sr: p.get('sr')! }), ...(p.has('name') && { name: p.get('name')! }),
      } }, 'copying', o.json === true));
      process.stdout.write(o.json ? `${JSON.stringify(v)}\n` : `${v.uuid}\n`);
    });

  withStateDir(program.command('vdi-migrate'))
    .description('move a VDI to another directory SR, live while a guest uses it (Storage XenMotion within the host): VDI sr=SR')
    .argument(...PARAMS)
    .option('--json', 'the moved VDI as JSON (progress as JSON lines on stderr)')
    .action(async (words: string[], o: StateDirOpts & { json?: boolean }) => {
      const p = xeParams(words, { uuid: 'vdi', vdi: 'vdi', sr: 'sr', 'sr-uuid': 'sr' }, 'vdi');
      const how = 'vdi-migrate VDI sr=SR';
      const v = await withHost(o, (ts) => runTask(ts, { op: 'vdiMigrate', args: { vdi: required(p, 'vdi', how), sr: required(p, 'sr', how) } }, 'migrating', o.json === true));
      if (o.json) process.stdout.write(`${JSON.stringify(v)}\n`);
      else say(`moved VDI ${v.uuid} to SR ${v.sr_name_label}; the guest's I/O paused ${v.max_paused_ms.toFixed(1)} ms at most`);
    });

  withStateDir(program.command('sr-gc'))
    .description("run an SR's garbage collector now (as sm's cleanup: coalesce hidden bases, delete unused ones); it also runs by itself after vdi-destroy and sr-scan")
    .argument(...PARAMS)
    .option('--json', 'the report as JSON (progress as JSON lines on stderr)')
    .action(async (words: string[], o: StateDirOpts & { json?: boolean }) => {
      const p = xeParams(words, { uuid: 'sr', sr: 'sr' }, 'sr');
      const r = await withHost(o, (ts) => runTask(ts, { op: 'srGc', args: { sr: p.get('sr') ?? 'default' } }, 'coalescing', o.json === true));
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else {
        for (const u of r.removed) say(`removed unused base ${u}`);
        for (const c of r.coalesced) say(`coalesced ${c.child} into ${c.parent}${c.leaf ? ' (leaf: the VDI kept its uuid and file)' : ''}`);
        for (const d of r.deferred) say(`deferred: VDI ${d.uuid} ${d.why}`);
      }
    });

  withStateDir(program.command('vdi-export'))
    .description('write a VDI (by name or uuid) to a new image file: VDI file=PATH format=vhd|qcow2|raw; refused while a guest uses it')
    .argument(...PARAMS)
    .option('--json', 'the result as JSON')
    .action(async (words: string[], o: StateDirOpts & { json?: boolean }) => {
      const p = xeParams(words, { uuid: 'vdi', vdi: 'vdi', file: 'file', filename: 'file', format: 'format' }, 'vdi');
      const how = 'vdi-export VDI file=PATH format=vhd|qcow2|raw';
      const r = await withHost(o, (ts) => runTask(ts, { op: 'vdiExport', args: { vdi: required(p, 'vdi', how), file: required(p, 'file', how), format: required(p, 'format', how) } },
        'exporting', o.json === true));
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    });
}
