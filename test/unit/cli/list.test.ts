// `xenode list` parsed without commander (the quick start-up path) must mean what commander
// makes of the same arguments, and leave to commander whatever it is unsure of.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { parseListArgs, registerListCommand } from '../../../src/cli/list.js';

/** What commander passes list's action for `xenode ARGS`. */
async function viaCommander(args: string[]): Promise<{ domains: string[]; opts: Record<string, unknown> }> {
  const program = new Command('xenode').exitOverride();
  registerListCommand(program);
  let got: { domains: string[]; opts: Record<string, unknown> } | undefined;
  program.commands.find((c) => c.name() === 'list')!.action((domains: string[], opts: Record<string, unknown>) => {
    got = { domains, opts: { ...opts } };
  });
  await program.parseAsync(args, { from: 'user' });
  assert.ok(got, `commander ran no action for ${args.join(' ')}`);
  return got;
}

test('the quick parse of list arguments matches commander', async () => {
  const cases = [
    [],
    ['web'],
    ['web', '3', 'db'],
    ['-l'],
    ['--long', 'web'],
    ['-lc'],
    ['-c', '--json'],
    ['--state-dir', '/tmp/x', 'web'],
    ['--state-dir=/tmp/x'],
    ['web', '--json', '--state-dir', '/a', '--state-dir', '/b'],
    ['--', '-notanoption'],
  ];
  for (const args of cases) {
    const quick = parseListArgs(args);
    assert.ok(quick, `quick parse refused ${args.join(' ')}`);
    for (const name of ['list', 'li']) assert.deepEqual(quick, await viaCommander([name, ...args]), `xenode ${name} ${args.join(' ')}`);
  }
});

test('help, unknown options and missing values are left to commander', () => {
  for (const args of [['-h'], ['--help'], ['-x'], ['--verbose'], ['--state-dir'], ['--no-json'], ['-l=1']]) {
    assert.equal(parseListArgs(args), undefined, args.join(' '));
  }
});
