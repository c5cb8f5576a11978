/**
 * `vgatt`: a thin command-line layer over the library. It wires stages, formats output and
 * turns errors into one line (`--verbose` for detail). Exit status: 0 = the capture was read
 * whole, 1 = error (nothing or not everything could be done), 2 = the capture is damaged
 * (truncated or corrupt): every complete record was printed, with a warning naming the offset.
 */
import yargs from 'yargs';
import { writeFileSync } from 'node:fs';
import type { DeviceSummary } from './diff/index.js';
import type { ResolvedProfile } from './profiles/index.js';
import type { LineWriter } from './output/writer.js';
import type { Progress } from './output/progress.js';
import type { CaptureWarning } from './capture/types.js';
import type { BluetoothEvent } from './bluetooth/types.js';

// Start-up time (issue 11): only yargs is loaded up front, so that `vgatt --help` and `--version` stay
// fast; a command loads what it runs when it runs: att, gatt and decode ./commands/read.js, the others
// ./commands/index.js.

/** How a command loads the code it runs: `import()` of the modules, unless main() is given another way. */
export interface CommandModules {
  read(): Promise<typeof import('./commands/read.js')>;
  all(): Promise<typeof import('./commands/index.js')>;
}

// The bundled CLI (bin/vgatt.js) passes its own: its bundles are compiled with a code cache.
let modules: CommandModules = {
  read: () => import('./commands/read.js'),
  all: () => import('./commands/index.js'),
};

const CAPTURE_HELP = 'btsnoop, pcap or pcapng file (- for standard input), Android bug report (.zip, or its .txt with a BTSNOOP_LOG_SUMMARY); several are read in order';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_DAMAGED = 2;

let verbose = false;
/** Several captures in the run: warnings name theirs. */
let multiInput = false;
/** The paths as typed: a warning about a capture inside one of them (a zip entry) names the entry. */
const typedPaths = new Set<string>();

function warn(msg: string): void {
  process.stderr.write(`vgatt: warning: ${msg}\n`);
}

function captureWarning(w: CaptureWarning): void {
  warn(w.file && (multiInput || !typedPaths.has(w.file)) && !w.message.startsWith(w.file) ? `${w.file}: ${w.message}` : w.message);
  if (verbose && w.detail) process.stderr.write(`${w.detail}\n`);
}

/** One line instead of an empty table: the capture has no Victron traffic; doctor says why. */
function noVictron(files: string[]): void {
  process.stderr.write(`vgatt: no Victron traffic in ${files.join(', ')}; run 'vgatt doctor ${files.join(' ')}' to see what it holds and why\n`);
}

function bluetoothEvent(e: BluetoothEvent): void {
  if (e.kind === 'diagnostic') {
    if (verbose) warn(`frame ${e.frame}: ${e.message}`);
  }
}

type Format = 'text' | 'ndjson' | 'csv';

/** Reader callbacks shared by the commands: warnings end the progress line, diagnostics are counted. */
function readCallbacks(progress: Progress, onDiagnostic: () => void = () => {}) {
  return {
    onWarning: (w: CaptureWarning) => {
      progress.done();
      captureWarning(w);
    },
    onProgress: (done: number, total: number) => progress.update(done, total),
    onEvent: (e: BluetoothEvent) => {
      if (e.kind === 'diagnostic') onDiagnostic();
      bluetoothEvent(e);
    },
  };
}

/**
 * Output appears as it is produced: the writer's large chunks are flushed at least every 100 ms,
 * so a slow capture (a pipe, a huge file) shows its first records at once, not at the end. A timer
 * covers the time the reader spends waiting for input (a pipe that is still being written).
 * Date.now(): the global `performance` loads perf_hooks on first use, about 2 ms of start-up.
 */
function liveFlush(out: LineWriter): (() => Promise<void>) & { stop(): void } {
  let last = Date.now();
  const timer = setInterval(() => {
    if (Date.now() - last < 100) return;
    last = Date.now();
    void out.flush();
  }, 100);
  timer.unref();
  const tick = async () => {
    await out.maybeFlush();
    const now = Date.now();
    if (now - last >= 100) {
      await out.flush();
      last = now;
    }
  };
  return Object.assign(tick, { stop: () => clearInterval(timer) });
}

async function runAtt(files: string[], format: Format): Promise<number> {
  const { scanAtt, attToCsv, attToNdjson, attToText, writeAttNdjson, ATT_CSV_HEADER, ATT_CSV_HEADER_FILES, ATT_TEXT_HEADER, LineWriter, Progress } = await modules.read();
  const progress = new Progress(`reading ${files.join(', ')}`);
  let diagnostics = 0;
  const scan = await scanAtt(files, readCallbacks(progress, () => diagnostics++));
  multiInput = scan.reader.multi;
  const out = new LineWriter(process.stdout);
  if (format === 'csv') await out.line(multiInput ? ATT_CSV_HEADER_FILES : ATT_CSV_HEADER);
  if (format === 'text') await out.line(ATT_TEXT_HEADER);
  const fmt = format === 'ndjson' ? attToNdjson : format === 'csv' ? attToCsv : attToText;
  let count = 0;
  let lastFile: string | undefined;
  const live = liveFlush(out);
  try {
    for await (const batch of scan.batches()) {
      for (const pdu of batch) {
        if (format === 'text' && pdu.file !== lastFile) out.add(`# ${(lastFile = pdu.file)}`);
        if (format === 'ndjson') writeAttNdjson(out, pdu);
        else out.add(fmt(pdu));
      }
      count += batch.length;
      await live();
      if (out.closed) break;
    }
  } finally {
    live.stop();
    await out.flush(); // a fatal error never loses the records already decoded
  }
  progress.done();
  if (diagnostics > 0 && !verbose) warn(`${diagnostics} Bluetooth-layer diagnostic(s) (lost or orphan ACL fragments, malformed PDUs); run with --verbose to list them`);
  if (format === 'text' && !out.closed) process.stderr.write(`${count} ATT PDU(s) in ${scan.reader.readers.length > 1 ? `${scan.reader.readers.length} captures (${scan.reader.describe()})` : `${scan.reader.info.format} capture (${scan.reader.info.linkTypeName})`}\n`);
  return scan.reader.complete ? EXIT_OK : EXIT_DAMAGED;
}

async function runGatt(files: string[], format: 'text' | 'json'): Promise<number> {
  const { scanAtt, gattToText, Progress } = await modules.read();
  const progress = new Progress(`reading ${files.join(', ')}`);
  const scan = await scanAtt(files, readCallbacks(progress));
  multiInput = scan.reader.multi;
  for await (const _ of scan.batches()) {
    // the GATT map is learned as PDUs stream by
  }
  progress.done();
  const dbs = scan.extractor.gattDatabases();
  process.stdout.write(format === 'json' ? JSON.stringify(dbs, null, 2) + '\n' : gattToText(dbs));
  return scan.reader.complete ? EXIT_OK : EXIT_DAMAGED;
}

async function runDecode(files: string[], format: Format, profileArg: string | undefined, profileDirs: string[]): Promise<number> {
  const { scanVictron, loadProfiles, resolveProfile, victronToCsv, victronToNdjson, victronToText, writeVictronNdjson, VICTRON_CSV_HEADER, VICTRON_CSV_HEADER_FILES, VICTRON_TEXT_HEADER, LineWriter, Progress } = await modules.read();
  const profiles = loadProfiles({ dirs: profileDirs });
  const profile = profileArg ? resolveProfile(profileArg, profiles) : undefined;
  const progress = new Progress(`decoding ${files.join(', ')}`);
  let diagnostics = 0;
  const scan = await scanVictron(files, { profiles, profile, ...readCallbacks(progress, () => diagnostics++) });
  multiInput = scan.reader.multi;
  const out = new LineWriter(process.stdout);
  const fmt = format === 'ndjson' ? victronToNdjson : format === 'csv' ? victronToCsv : victronToText;
  const counts = { message: 0, control: 0, unknown: 0, padding: 0 };
  let total = 0;
  let lastFile: string | undefined;
  const live = liveFlush(out);
  try {
    for await (const batch of scan.batches()) {
      for (const r of batch) {
        // Headers only once there is something under them: no empty table for a capture without Victron traffic.
        if (total++ === 0) {
          if (format === 'csv') out.add(multiInput ? VICTRON_CSV_HEADER_FILES : VICTRON_CSV_HEADER);
          if (format === 'text') out.add(VICTRON_TEXT_HEADER);
        }
        if (format === 'text' && r.file !== lastFile) out.add(`# ${(lastFile = r.file)}`);
        if (format === 'ndjson') writeVictronNdjson(out, r);
        else out.add(fmt(r));
        counts[r.kind]++;
      }
      await live();
      if (out.closed) break;
    }
  } catch (e) {
    await out.flush(); // a fatal error never loses the records already decoded
    throw e;
  } finally {
    live.stop();
  }
  const unanswered = scan.decoder.unanswered();
  const unansweredTotal = scan.decoder.unansweredTotal();
  if (format === 'text' && unanswered.length > 0) {
    out.add('');
    out.add(`Requests never answered (${unansweredTotal}${unansweredTotal > unanswered.length ? `, first ${unanswered.length} listed` : ''}):`);
    for (const u of unanswered) out.add(`${String(u.frame).padStart(7)}  ${u.typeName} inst ${u.instance}${u.register !== undefined ? ` 0x${u.register.toString(16).padStart(4, '0')}` : ''}  (connection 0x${u.connection.toString(16).padStart(4, '0')}${u.session !== undefined ? `, session ${u.session}` : ''}${u.file !== undefined ? `, ${u.file}` : ''})`);
  }
  await out.flush();
  progress.done();
  if (total === 0) {
    noVictron(files);
    return scan.reader.complete ? EXIT_OK : EXIT_DAMAGED;
  }
  if (diagnostics > 0 && !verbose) warn(`${diagnostics} Bluetooth-layer diagnostic(s) (lost or orphan ACL fragments, malformed PDUs); run with --verbose to list them`);
  if (format === 'text' && !out.closed) {
    process.stderr.write(`${counts.message} message record(s), ${counts.control} control, ${counts.unknown} unknown, ${counts.padding} padding; ${unansweredTotal} request(s) never answered\n`);
  }
  return scan.reader.complete ? EXIT_OK : EXIT_DAMAGED;
}

async function summarize(file: string | string[], profiles: ResolvedProfile[], profile: ResolvedProfile | undefined): Promise<DeviceSummary[]> {
  const { scanVictron, CaptureSummarizer, Progress } = await modules.all();
  const progress = new Progress(`reading ${file}`);
  const scan = await scanVictron(file, { profiles, profile, ...readCallbacks(progress) });
  const sum = new CaptureSummarizer();
  for await (const batch of scan.batches()) for (const r of batch) sum.add(r);
  progress.done();
  return sum.summaries(scan.extractor.gattDatabases(), scan.extractor.sessions());
}

async function runDiff(a: string, b: string, opts: { format: 'text' | 'json'; ignoreValues: boolean; ignoreTiming: boolean; profile?: string; profiles: string[] }): Promise<number> {
  // diff(1) convention: 0 equivalent, 1 different, 2 trouble.
  try {
    const { loadProfiles, resolveProfile, diffSummaries, diffToText } = await modules.all();
    const profiles = loadProfiles({ dirs: opts.profiles });
    const profile = opts.profile ? resolveProfile(opts.profile, profiles) : undefined;
    const [sa, sb] = [await summarize(a, profiles, profile), await summarize(b, profiles, profile)];
    const d = diffSummaries(sa, sb, { ignoreValues: opts.ignoreValues, ignoreTiming: opts.ignoreTiming });
    if (opts.format === 'json') process.stdout.write(JSON.stringify({ a, b, ...d, summaries: { a: sa, b: sb } }, null, 2) + '\n');
    else process.stdout.write(diffToText(d, { color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR }));
    return d.equivalent ? 0 : 1;
  } catch (err) {
    const e = err as Error;
    process.stderr.write(verbose && e.stack ? `${e.stack}\n` : `vgatt: error: ${e.message}\n`);
    return 2;
  }
}

async function runReport(files: string[], output: string | undefined, profileArg: string | undefined, profileDirs: string[], keyOpts: { key: string[]; keys: string[] } = { key: [], keys: [] }): Promise<number> {
  const { scanVictron, loadProfiles, resolveProfile, ReportBuilder, reportToText, reportToHtml, instantReadoutReport, parseKeyOptions, CaptureKeys, Progress } = await modules.all();
  const advertKeys = parseKeyOptions(keyOpts.key, keyOpts.keys);
  const captureKeys = new CaptureKeys();
  const profiles = loadProfiles({ dirs: profileDirs });
  const profile = profileArg ? resolveProfile(profileArg, profiles) : undefined;
  const file = files.join(', ');
  const progress = new Progress(`reading ${file}`);
  const scan = await scanVictron(files, {
    profiles,
    profile,
    onWarning: (w) => {
      progress.done();
      captureWarning(w);
      builder.warning(w);
    },
    onProgress: (done, total) => progress.update(done, total),
    onEvent: (e) => {
      bluetoothEvent(e);
      if (e.kind === 'diagnostic') builder.issue({ frame: e.frame, kind: `bluetooth: ${e.code}`, message: e.message });
    },
  });
  multiInput = scan.reader.multi;
  const builder = new ReportBuilder(file, scan.reader.describe());
  let total = 0;
  for await (const batch of scan.batches()) {
    for (const r of batch) {
      builder.add(r);
      captureKeys.add(r);
    }
    total += batch.length;
  }
  const readouts = await instantReadoutReport(files, advertKeys, captureKeys);
  progress.done();
  if (total === 0 && readouts.length === 0) {
    noVictron(files);
    return scan.reader.complete ? EXIT_OK : EXIT_DAMAGED;
  }
  const report = builder.build(scan.extractor.gattDatabases(), scan.extractor.sessions(), scan.decoder.sessionProfiles());
  report.instantReadout = readouts;
  if (output && output !== '-') {
    writeFileSync(output, output.endsWith('.html') || output.endsWith('.htm') ? reportToHtml(report) : reportToText(report));
    process.stderr.write(`wrote ${output}\n`);
  } else process.stdout.write(reportToText(report)); // no -o, or -o - (standard output)
  return scan.reader.complete ? EXIT_OK : EXIT_DAMAGED;
}

/** A usage mistake (unknown command or option, missing argument): one line and a pointer to --help. */
class UsageError extends Error {}

/**
 * Runs `vgatt` with the given arguments (without `node` and the script) and resolves to the exit
 * status; it never calls process.exit, so that it can be called from a program or a test.
 */
/** Flags that take no value: a '-' after one of them is a capture, not the flag's value. */
const FLAGS = new Set(['--verbose', '--ignore-values', '--ignore-timing', '--capture-keys', '--no-capture-keys', '--help', '--version']);

/** What a lone '-' is handed to yargs as: yargs drops a lone '-' positional (yargs/yargs#1312, open). */
const STDIN_TOKEN = 'vgatt:stdin';

/** '-' names standard input (as tshark -r -); '-' as an option's value is left alone. */
function stdinArgs(argv: string[]): string[] {
  return argv.map((a, i) => {
    const prev = argv[i - 1];
    return a === '-' && (i === 0 || !prev!.startsWith('-') || prev!.includes('=') || FLAGS.has(prev!)) ? STDIN_TOKEN : a;
  });
}

/** Runs `vgatt` with these arguments and resolves to its exit status; `load` replaces how commands load their code. */
export async function main(argv: string[], load?: CommandModules): Promise<number> {
  if (load) modules = load;
  verbose = argv.includes('--verbose');
  argv = stdinArgs(argv);
  try {
    return await run(argv);
  } catch (err) {
    const e = err as Error;
    if (err instanceof UsageError) process.stderr.write(`vgatt: ${e.message}\nRun 'vgatt --help' for usage.\n`);
    else if (verbose && e?.stack) process.stderr.write(`${e.stack}\n`);
    else process.stderr.write(`vgatt: error: ${e?.message ?? String(err)}\n`);
    return EXIT_ERROR;
  }
}

async function run(argv: string[]): Promise<number> {
  let status = EXIT_OK;
  const parser = yargs(argv)
    .scriptName('vgatt')
    .usage('$0 <command> <capture..> [options]\n\nExplains the VictronConnect Bluetooth protocol in btsnoop, pcap and pcapng captures and Android bug reports.')
    .option('verbose', { type: 'boolean', default: false, describe: 'Show detail: diagnostics and stack traces' })
    .middleware((a) => {
      verbose = Boolean(a.verbose);
      for (const k of ['capture', 'a', 'b', 'input']) {
        if (Array.isArray(a[k])) a[k] = (a[k] as unknown[]).map((p) => (p === STDIN_TOKEN ? '-' : p));
        else if (a[k] === STDIN_TOKEN) a[k] = '-';
        for (const p of ([] as unknown[]).concat(a[k] ?? [])) typedPaths.add(String(p));
      }
    })
    .command(
      'att <capture..>',
      'List every ATT PDU (one record per PDU)',
      (y) =>
        y
          .positional('capture', { type: 'string', array: true, demandOption: true, describe: CAPTURE_HELP })
          .option('format', { alias: 'f', choices: ['text', 'ndjson', 'csv'] as const, default: 'text' as Format, describe: 'Output format' }),
      async (a) => {
        status = await runAtt(a.capture as string[], a.format as Format);
      },
    )
    .command(
      'gatt <capture..>',
      'Print, per connection, the GATT database learned from the discovery in the capture',
      (y) =>
        y
          .positional('capture', { type: 'string', array: true, demandOption: true, describe: CAPTURE_HELP })
          .option('format', { alias: 'f', choices: ['text', 'json'] as const, default: 'text' as const }),
      async (a) => {
        status = await runGatt(a.capture as string[], a.format as 'text' | 'json');
      },
    )
    .command(
      'decode <capture..>',
      'Decode the Victron messages: transfers reassembled, every byte explained or shown as unknown',
      (y) =>
        y
          .positional('capture', { type: 'string', array: true, demandOption: true, describe: CAPTURE_HELP })
          .option('format', { alias: 'f', choices: ['text', 'ndjson', 'csv'] as const, default: 'text' as Format, describe: 'Output format' })
          .option('profile', { alias: 'p', type: 'string', describe: 'Device profile id (smartshunt, smartsolar, orion, orion-xs, phoenix, bluesmart, common) or a profile .json file; default: chosen per connection' })
          .option('profiles', { type: 'string', array: true, default: [] as string[], describe: 'Extra directory of profile .json files (repeatable)' }),
      async (a) => {
        status = await runDecode(a.capture as string[], a.format as Format, a.profile, a.profiles as string[]);
      },
    )
    .command(
      'diff <a> <b>',
      'What changed between two captures, per device (exit 0 equivalent, 1 different, 2 error)',
      (y) =>
        y
          .positional('a', { type: 'string', demandOption: true, describe: 'first capture' })
          .positional('b', { type: 'string', demandOption: true, describe: 'second capture' })
          .option('format', { alias: 'f', choices: ['text', 'json'] as const, default: 'text' as const })
          .option('ignore-values', { type: 'boolean', default: false, describe: 'Do not compare value ranges' })
          .option('ignore-timing', { type: 'boolean', default: false, describe: 'Do not compare polling intervals' })
          .option('profile', { alias: 'p', type: 'string', describe: 'Device profile id or .json file for both captures' })
          .option('profiles', { type: 'string', array: true, default: [] as string[], describe: 'Extra directory of profile .json files' }),
      async (a) => {
        status = await runDiff(a.a, a.b, { format: a.format as 'text' | 'json', ignoreValues: Boolean(a['ignore-values']), ignoreTiming: Boolean(a['ignore-timing']), profile: a.profile, profiles: a.profiles as string[] });
      },
    )
    .command(
      'report <capture..>',
      'One page that explains a capture: devices, registers over time, unknowns (-o file.html for charts)',
      (y) =>
        y
          .positional('capture', { type: 'string', array: true, demandOption: true, describe: CAPTURE_HELP })
          .option('output', { alias: 'o', type: 'string', describe: 'Write to this file: .html gives a self-contained page with charts, other names text' })
          .option('profile', { alias: 'p', type: 'string', describe: 'Device profile id or .json file' })
          .option('profiles', { type: 'string', array: true, default: [] as string[], describe: 'Extra directory of profile .json files' })
          .option('key', { alias: 'k', type: 'string', array: true, default: [] as string[], describe: 'ADDRESS=HEX: an Instant Readout advertisement key (as for adverts)' })
          .option('keys', { type: 'string', array: true, default: [] as string[], describe: 'JSON file of advertisement keys (as for adverts)' }),
      async (a) => {
        status = await runReport(a.capture as string[], a.output, a.profile, a.profiles as string[], { key: a.key as string[], keys: a.keys as string[] });
      },
    )
    .command(
      'anonymize <input> <output>',
      'Copy a capture (same format) with device addresses, serial numbers and secrets replaced',
      (y) =>
        y
          .positional('input', { type: 'string', demandOption: true, describe: 'btsnoop, pcap or pcapng file' })
          .positional('output', { type: 'string', demandOption: true, describe: 'file to write (same format as the input)' })
          .option('map', { type: 'string', describe: 'Also write the originals and their stand-ins to this JSON file (keep it private)' })
          .option('seed', { type: 'string', describe: 'Derive the stand-ins from this secret (same seed, same output); default: random per run' })
          .option('profile', { alias: 'p', type: 'string', describe: 'Device profile id or .json file (as for decode)' })
          .option('profiles', { type: 'string', array: true, default: [] as string[], describe: 'Extra directory of profile .json files' }),
      async (a) => {
        const { runAnonymize } = await modules.all();
        status = await runAnonymize({ input: a.input, output: a.output, map: a.map, seed: a.seed, profile: a.profile, profiles: a.profiles as string[] }, warn);
      },
    )
    .command('profile', 'Device profile tools: profile suggest <capture..> writes a profile for the registers no profile names', (y) =>
      y
        .command(
          'suggest <capture..>',
          'Suggest a profile (extending --base) with a placeholder entry per register the capture shows but the base does not define',
          (z) =>
            z
              .positional('capture', { type: 'string', array: true, demandOption: true, describe: CAPTURE_HELP })
              .option('base', { alias: 'b', type: 'string', describe: 'Profile to extend (id or .json); default: the profile chosen for the capture\'s device' })
              .option('output', { alias: 'o', type: 'string', describe: 'Write the profile to this .json file (default: stdout); its name gives the profile id' })
              .option('id', { type: 'string', describe: 'Profile id (default: from the output file name, else BASE-suggested)' })
              .option('profiles', { type: 'string', array: true, default: [] as string[], describe: 'Extra directory of profile .json files' }),
          async (a) => {
            const { runProfileSuggest, Progress } = await modules.all();
            const progress = new Progress(`reading ${(a.capture as string[]).join(', ')}`);
            status = await runProfileSuggest({ captures: a.capture as string[], base: a.base, output: a.output, id: a.id, profiles: a.profiles as string[] }, readCallbacks(progress), (m) => {
              progress.done();
              process.stderr.write(`${m}\n`);
            });
          },
        )
        .demandCommand(1, 'Name a profile command: suggest'),
    )
    .command(
      'adverts <capture..>',
      'Victron Instant Readout advertisements: product, record and values, decrypted with the device keys',
      (y) =>
        y
          .positional('capture', { type: 'string', array: true, demandOption: true, describe: CAPTURE_HELP })
          .option('key', { alias: 'k', type: 'string', array: true, default: [] as string[], describe: 'ADDRESS=HEX: the advertisement key of a device (repeatable)' })
          .option('keys', { type: 'string', array: true, default: [] as string[], describe: 'JSON file { "aa:bb:cc:dd:ee:ff": "hex key" } (repeatable)' })
          .option('capture-keys', { type: 'boolean', default: true, describe: 'Use keys the app read from register 0xEC65 in the capture (--no-capture-keys: do not)' })
          .option('format', { alias: 'f', choices: ['text', 'ndjson', 'csv'] as const, default: 'text' as Format, describe: 'Output format' }),
      async (a) => {
        const { runAdverts } = await modules.all();
        status = await runAdverts(a.capture as string[], { format: a.format as Format, key: a.key as string[], keys: a.keys as string[], captureKeys: a['capture-keys'] !== false, verbose });
      },
    )
    .command(
      'doctor <capture..>',
      'What a capture holds and why there may be no Victron data (exit 0 Victron GATT data found, 1 error, 3 none)',
      (y) =>
        y
          .positional('capture', { type: 'string', array: true, demandOption: true, describe: CAPTURE_HELP })
          .option('format', { alias: 'f', choices: ['text', 'json'] as const, default: 'text' as const, describe: 'Output format (json for scripts)' })
          .option('profile', { alias: 'p', type: 'string', describe: 'Device profile id or .json file' })
          .option('profiles', { type: 'string', array: true, default: [] as string[], describe: 'Extra directory of profile .json files' })
          .epilog('Exit status: 0 Victron GATT data found, 1 error (not a capture), 3 no Victron GATT data.'),
      async (a) => {
        const { loadProfiles, resolveProfile, diagnose, doctorToText, Progress } = await modules.all();
        const profiles = loadProfiles({ dirs: a.profiles as string[] });
        const progress = new Progress(`examining ${(a.capture as string[]).join(', ')}`);
        const r = await diagnose(a.capture as string[], { profiles, profile: a.profile ? resolveProfile(a.profile, profiles) : undefined, onProgress: (d, t) => progress.update(d, t) });
        progress.done();
        process.stdout.write(a.format === 'json' ? JSON.stringify(r, null, 2) + '\n' : doctorToText(r));
        status = r.exitCode;
      },
    )
    .command(
      'lua',
      'Generate the Wireshark Lua dissector from the device profiles',
      (y) =>
        y
          .option('profiles', { type: 'string', array: true, default: [] as string[], describe: 'Extra directory of profile .json files (repeatable)' })
          .option('output', { alias: 'o', type: 'string', describe: 'Write to this file (default: stdout)' }),
      async (a) => {
        const { loadProfiles, generateLua } = await modules.all();
        const lua = generateLua(loadProfiles({ dirs: a.profiles as string[] }));
        if (a.output && a.output !== '-') {
          writeFileSync(a.output, lua);
          process.stderr.write(`wrote ${a.output} (${Math.round(lua.length / 1024)} KiB)\n`);
        } else process.stdout.write(lua);
      },
    )
    .demandCommand(1, 'Name a command: att, gatt, decode, diff, report, anonymize, adverts, doctor, profile, lua')
    .strict()
    .help()
    .version()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
  // yargs renders a command's whole help text as its handler starts (cacheHelpMessage), for a handler
  // that would show it later; ours never do (errors point to --help), and rendering it was about 2% of
  // a command's start-up (issue 11). `--help` itself renders its text as before.
  const usage = (parser as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } }).getInternalMethods?.().getUsageInstance?.();
  if (typeof usage?.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
  await parser.parseAsync();
  return status;
}
