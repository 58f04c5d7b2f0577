// xl save, xl restore and xl migrate: one call of the command API each, with xl's messages (on
// stderr). The host reads and writes the file, so a relative path is made absolute here.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { say, withHost, withStateDir, type StateDirOpts } from './common.js';

const hex = (n: number) => `0x${n.toString(16)}`;

export function registerSaveRestoreCommands(program: Command): void {
  withStateDir(program.command('save'))
    .description("save a domain's state to a file; the domain is destroyed afterwards (its program's onSuspend hands over its state)")
    .argument('<domain>', 'the domain, by name or id')
    .argument('<file>', 'the save file')
    .option('-c', 'leave the domain running after saving it (a checkpoint)')
    .option('-p', 'leave the domain paused after saving it')
    .action(async (domain: string, file: string, o: StateDirOpts & { c?: boolean; p?: boolean }) => {
      const path = resolve(file);
      const r = await withHost(o, (ts) => ts.call('save', { domain, file: path, checkpoint: o.c === true, paused: o.p === true }));
      say(`Saving to ${path} new xl format (info ${hex(r.info[0])}/${hex(r.info[1])}/${r.info[2]})`);
    });

  withStateDir(program.command('restore'))
    .description('restore a domain from a save file')
    .argument('<file>', 'the save file')
    .option('-p', 'leave the domain paused after restoring it')
    .option('-e', "do not wait in the background for the domain's death (xenode never does: accepted for xl's sake)")
    .action(async (file: string, o: StateDirOpts & { p?: boolean; e?: boolean }) => {
      const path = resolve(file);
      const r = await withHost(o, (ts) => ts.call('restore', { file: path, paused: o.p === true }));
      say(`Loading new save file ${path} (new xl fmt info ${hex(r.info[0])}/${hex(r.info[1])}/${r.info[2]})`);
      say(' Savefile contains xl domain config in JSON format');
      say(`Parsing config from <saved>`);
      for (const w of r.warnings) say(w);
    });

  withStateDir(program.command('migrate'))
    .description('live-migrate a domain to another xenode host (started with --listen)')
    .argument('<domain>', 'the domain, by name or id')
    .argument('<host:port>', "the destination host's --listen address")
    .option('--token <hex>', "the destination's migration token (its state dir's migration-token file)")
    .option('--token-file <file>', 'read the token from this file')
    .option('--max-rounds <n>', 'pre-copy rounds before stop-and-copy at the latest (xc: 5)')
    .option('--dirty-threshold <frames>', 'stop and copy once fewer frames than this changed in a round (xc: 50)')
    .option('--with-disks', "Storage XenMotion: mirror the domain's VDIs to the destination's SR while it runs")
    .option('--vdi-map <vdi=sr...>', 'with --with-disks: the destination SR (uuid or name) for a VDI (uuid); default its default SR')
    .action(async (domain: string, target: string, o: StateDirOpts & { token?: string; tokenFile?: string; maxRounds?: string; dirtyThreshold?: string; withDisks?: boolean; vdiMap?: string[] }) => {
      const token = o.token ?? (o.tokenFile ? (await readFile(o.tokenFile, 'utf8')).trim() : undefined);
      if (!token) throw new Error('give the destination\'s migration token: --token HEX or --token-file FILE');
      const n = (v: string | undefined, what: string) => {
        if (v === undefined) return undefined;
        const x = Number(v);
        if (!Number.isInteger(x) || x < 0) throw new Error(`${what} wants a whole number, not '${v}'`);
        return x;
      };
      const vdiMap = o.vdiMap && Object.fromEntries(o.vdiMap.map((kv) => {
        const at = kv.indexOf('=');
        if (at <= 0 || at === kv.length - 1) throw new Error(`--vdi-map wants VDI=SR, not '${kv}'`);
        return [kv.slice(0, at), kv.slice(at + 1)];
      }));
      const maxRounds = n(o.maxRounds, '--max-rounds');
      const dirtyThreshold = n(o.dirtyThreshold, '--dirty-threshold');
      const r = await withHost(o, (ts) => ts.call('migrate', {
        domain, target, token, ...(maxRounds !== undefined && { maxRounds }), ...(dirtyThreshold !== undefined && { dirtyThreshold }),
        ...(o.withDisks && { withDisks: true }), ...(vdiMap && { vdiMap }),
      }));
      for (const line of r.messages) say(line);
    });
}
