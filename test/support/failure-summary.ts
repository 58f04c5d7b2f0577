// A node:test reporter that prints nothing until the run ends, then every failed test with its
// file and error. The TAP stream puts a failure wherever its file finished, and a CI log that keeps
// only its tail would otherwise show "# fail 1" without saying which test failed.
import { inspect } from 'node:util';

interface FailEvent {
  type: 'test:fail';
  data: { name: string; nesting: number; file?: string; details: { error?: unknown } };
}

type TestEvent = FailEvent | { type: string; data: unknown };

function isFail(event: TestEvent): event is FailEvent {
  return event.type === 'test:fail';
}

export default async function* failureSummary(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const failed: FailEvent['data'][] = [];
  for await (const event of source) {
    if (isFail(event)) failed.push(event.data);
  }
  if (failed.length === 0) return;
  // A failed subtest also fails its suite, and a failed or timed-out test cancels its subtests:
  // the failure that says why is the test's own.
  const innermost = failed.filter((f) => !['subtestsFailed', 'cancelledByParent'].includes((f.details.error as { failureType?: string } | undefined)?.failureType ?? ''));
  yield `\n# failed tests (${innermost.length}):\n`;
  for (const f of innermost) {
    const error = inspect(f.details.error, { depth: 4 }).split('\n').map((line) => `#   ${line}`).join('\n');
    yield `# ${f.file ?? '?'}\n#   ${f.name}\n${error}\n`;
  }
}
