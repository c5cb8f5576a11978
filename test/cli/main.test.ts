/** cli.ts as a module: importing it runs nothing; main(argv) resolves to the exit status and never exits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO } from '../helpers/tshark.js';
import { EXIT_OK, EXIT_ERROR } from '../../src/cli.js';

const CLI = JSON.stringify(path.join(REPO, 'src/cli.ts'));

/** Calls main(argv) in a fresh process; `code` is what main resolved to, `status` how the process ended. */
function run(argv: string[]): { code: number; status: number | null; out: string; err: string } {
  const script = `const { main } = await import(${CLI}); const code = await main(JSON.parse(process.argv[1])); process.stdout.write('\\nmain=' + code);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, JSON.stringify(argv)], { cwd: REPO, encoding: 'utf8' });
  const at = r.stdout.lastIndexOf('\nmain=');
  return { code: Number(r.stdout.slice(at + 6)), status: r.status, out: r.stdout.slice(0, at), err: r.stderr };
}

test('importing the CLI module prints nothing and exits 0', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `await import(${JSON.stringify(path.join(REPO, 'src/cli.ts'))})`], { cwd: REPO, encoding: 'utf8' });
  assert.deepEqual([r.status, r.stdout, r.stderr], [0, '', '']);
});

test('main(argv) resolves to the exit status and leaves the process alone', () => {
  const v = run(['--version']);
  assert.equal(v.status, 0);
  assert.deepEqual([v.code, v.out.trim()], [EXIT_OK, '0.1.0']);
  const h = run(['--help']);
  assert.equal(h.code, EXIT_OK);
  assert.match(h.out, /vgatt decode <capture\.\.>/);
  // A command's help (main() turns off yargs' copy of it made as a handler starts; this is rendered anew).
  const ch = run(['decode', '--help']);
  assert.equal(ch.code, EXIT_OK);
  assert.match(ch.out, /^vgatt decode <capture\.\.>\n/);
  assert.match(ch.out, /-f, --format +Output format +\[choices: "text", "ndjson", "csv"\] \[default: "text"\]/);
  const u = run(['frobnicate']);
  assert.deepEqual([u.code, u.status], [EXIT_ERROR, 0], 'main returns 1; it does not set the exit code or exit');
  assert.equal(u.err, "vgatt: Unknown argument: frobnicate\nRun 'vgatt --help' for usage.\n");
  const m = run(['att', path.join(REPO, 'no-such.btsnoop')]);
  assert.equal(m.code, EXIT_ERROR);
  assert.match(m.err, /^vgatt: error: .*no-such\.btsnoop.*\n$/);
  const d = run(['gatt', path.join(REPO, 'test/fixtures/att-session.btsnoop'), '--format', 'json']);
  assert.equal(d.code, EXIT_OK, d.err);
  assert.equal(JSON.parse(d.out)[0].connection, 0x40);
});
