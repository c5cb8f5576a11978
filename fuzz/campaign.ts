/**
 * The project's own fuzzing: mutated seeds through every stage, each input run alone in a worker
 * process with a time limit (a hang kills the worker) and a memory limit (heap cap, RSS checked),
 * findings minimised and written to a folder with how to reproduce them.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { loadSeed, mutate, Rng, type Seed } from './mutate.js';
import { victronMessage } from './messages.js';
import { inBugReport } from './zip.js';
import { STAGES, type Stage } from './stages.js';
import type { Answer, Job } from './worker.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');

export interface CampaignOptions {
  /** Inputs per stage. */
  inputs: number;
  /** Wall-clock budget for the whole campaign; dispatching stops when it is spent. */
  seconds: number;
  stages?: readonly Stage[];
  workers?: number;
  /** Where minimised reproducers go. */
  outDir?: string;
  seed?: number;
  /** Per-input limits. */
  timeLimitMs?: number;
  memoryMb?: number;
  /** Seed captures: every capture in these folders. */
  seedDirs?: string[];
  /** Skip seeds bigger than this (the CI slice keeps to small ones). */
  maxSeedBytes?: number;
  log?: (line: string) => void;
}

export interface StageFigures {
  inputs: number;
  crashes: number;
  hangs: number;
  memory: number;
  /** Lost neighbours or invented messages (stream stage), bad offsets in warnings. */
  problems: number;
  lostNeighbours: number;
  /** Inputs the library refused as unreadable files (CaptureError: one line, exit 1). */
  unreadable: number;
}

export interface Finding {
  stage: Stage;
  kind: 'crash' | 'hang' | 'memory' | 'problem';
  message: string;
  seed: string;
  mutation: string;
  file?: string;
}

export interface CampaignResult {
  stages: Record<string, StageFigures>;
  findings: Finding[];
  seconds: number;
  seeds: number;
}

export const DEFAULT_SEED_DIRS = [path.join(REPO, 'captures'), path.join(REPO, 'test', 'fixtures'), path.resolve(REPO, '..', 'shared', 'captures'), '/work/shared/captures'];

/** A worker process, restarted after a crash, hang or memory blow-up. */
class Worker {
  private proc: ChildProcess | undefined;
  private pending: { resolve: (a: Answer | { dead: string }) => void; timer: NodeJS.Timeout } | undefined;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly timeLimitMs: number,
    private readonly memoryMb: number,
  ) {}

  private start(): Promise<void> {
    const proc = fork(path.join(HERE, 'worker.ts'), [], { execArgv: ['--import', 'tsx', `--max-old-space-size=${this.memoryMb}`], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    proc.stderr?.resume();
    this.proc = proc;
    this.ready = new Promise((resolve) => {
      const onReady = (m: unknown) => {
        if ((m as { ready?: boolean }).ready) {
          proc.off('message', onReady);
          resolve();
        }
      };
      proc.on('message', onReady);
    });
    proc.on('message', (m: Answer | { ready: true }) => {
      if ('ready' in m) return;
      const p = this.pending;
      this.pending = undefined;
      if (p) {
        clearTimeout(p.timer);
        p.resolve(m);
      }
    });
    proc.on('exit', (code, signal) => {
      if (this.proc === proc) this.proc = undefined;
      const p = this.pending;
      this.pending = undefined;
      if (p) {
        clearTimeout(p.timer);
        p.resolve({ dead: `worker exited (${signal ?? `code ${code}`})` });
      }
    });
    return this.ready;
  }

  async run(job: Job): Promise<Answer | { dead: string } | { hang: true }> {
    if (!this.proc) await this.start();
    else await this.ready;
    const proc = this.proc!;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        proc.kill('SIGKILL');
        this.proc = undefined;
        resolve({ hang: true });
      }, this.timeLimitMs);
      this.pending = { resolve, timer };
      proc.send(job);
    });
  }

  stop(): void {
    this.proc?.kill('SIGKILL');
    this.proc = undefined;
  }
}

function capturesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.(btsnoop|pcap|pcapng|cap|log)$/i.test(f))
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile());
}

type Input = { job: Job; seed: string; mutation: string; bytes?: Uint8Array };
type Outcome = { kind: 'ok' | 'crash' | 'hang' | 'memory' | 'problem'; message: string; unreadable?: boolean; lost?: number };

export async function runCampaign(opts: CampaignOptions): Promise<CampaignResult> {
  const t0 = performance.now();
  const stages = opts.stages ?? STAGES;
  const log = opts.log ?? (() => {});
  const rng = new Rng(opts.seed ?? 13);
  const timeLimitMs = opts.timeLimitMs ?? 10_000;
  const memoryMb = opts.memoryMb ?? 512;
  const dirs = opts.seedDirs ?? DEFAULT_SEED_DIRS;
  const files = [...new Set(dirs.flatMap(capturesIn).map((f) => path.resolve(f)))].filter((f) => statSync(f).size <= (opts.maxSeedBytes ?? Infinity));
  const seeds: Seed[] = [];
  for (const f of files) {
    const s = await loadSeed(f);
    if (s) seeds.push(s);
  }
  if (seeds.length === 0 && stages.some((s) => s !== 'stream')) throw new Error(`no seed captures in ${dirs.join(', ')}`);
  log(`${seeds.length} seed capture(s); stages ${stages.join(', ')}; ${opts.inputs} input(s) per stage; ${opts.seconds} s budget`);
  const tmp = mkdtempSync(path.join(tmpdir(), 'vgatt-fuzz-'));
  const figures: Record<string, StageFigures> = {};
  for (const s of stages) figures[s] = { inputs: 0, crashes: 0, hangs: 0, memory: 0, problems: 0, lostNeighbours: 0, unreadable: 0 };
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const workers = Array.from({ length: Math.max(1, opts.workers ?? 1) }, () => new Worker(timeLimitMs, memoryMb));
  let jobId = 0;

  const classify = (a: Answer | { dead: string } | { hang: true }): Outcome => {
    if ('hang' in a) return { kind: 'hang', message: `no answer within ${timeLimitMs} ms` };
    if ('dead' in a) return { kind: 'memory', message: a.dead };
    if (!a.ok) return { kind: 'crash', message: a.crash.split('\n')[0]! };
    if (a.rssMb > memoryMb * 2) return { kind: 'memory', message: `resident memory ${Math.round(a.rssMb)} MB after one input` };
    if (a.problems.length) return { kind: 'problem', message: a.problems[0]!, lost: a.lost };
    return { kind: 'ok', message: '', unreadable: a.unreadable !== undefined };
  };

  const makeInput = async (stage: Stage, w: number): Promise<Input> => {
    const id = ++jobId;
    if (stage === 'stream') {
      const [msgs] = fc.sample(fc.array(fc.tuple(victronMessage, fc.nat(1)), { minLength: 3, maxLength: 14 }), { seed: rng.int(2 ** 31), numRuns: 1 });
      let hex = '';
      const spans: { start: number; end: number }[] = [];
      for (const [m, pad] of msgs!) {
        hex += 'ff'.repeat(pad);
        spans.push({ start: hex.length / 2, end: hex.length / 2 + m.length / 2 });
        hex += m;
      }
      const at = rng.int(hex.length / 2);
      let value = rng.int(256);
      if (value === parseInt(hex.slice(2 * at, 2 * at + 2), 16)) value ^= 0x01;
      const cuts = Array.from({ length: 1 + rng.int(6) }, () => 1 + rng.int(24));
      return { job: { id, stage, hex, spans, at, value, cuts }, seed: 'generated stream', mutation: `byte ${at} -> 0x${value.toString(16)}, pieces ${cuts.join('/')}` };
    }
    const seed = rng.pick(seeds);
    let { bytes, what } = mutate(seed, rng);
    // One input in eight comes as an Android bug report zip (the zip layer's own damage included).
    const zipped = rng.int(8) === 0;
    if (zipped) {
      const z = await inBugReport(bytes, rng);
      bytes = z.bytes;
      what = `${what}, ${z.what}`;
    }
    const p = path.join(tmp, `w${w}-${id}${zipped ? '.zip' : path.extname(seed.path)}`);
    writeFileSync(p, bytes);
    return { job: { id, stage, path: p, size: bytes.length, seedPath: seed.path }, seed: seed.path, mutation: what, bytes };
  };

  /** Shortest input (prefix, then with chunks removed) that still gives the same finding. */
  const minimise = async (w: Worker, input: Input, o: Outcome): Promise<Uint8Array> => {
    let best = input.bytes!;
    const job = input.job as Extract<Job, { path: string }>;
    const same = async (b: Uint8Array) => {
      const p = `${job.path}.min`;
      writeFileSync(p, b);
      const r = classify(await w.run({ ...job, id: ++jobId, path: p, size: b.length }));
      return r.kind === o.kind && (o.kind !== 'crash' || r.message === o.message);
    };
    let budget = o.kind === 'hang' ? 6 : 60;
    // Prefix: bisect the shortest one.
    let lo = 1;
    let hi = best.length;
    while (lo < hi && budget-- > 0) {
      const mid = (lo + hi) >> 1;
      if (await same(best.subarray(0, mid))) hi = mid;
      else lo = mid + 1;
    }
    if (hi < best.length && (await same(best.subarray(0, hi)))) best = best.slice(0, hi);
    // Chunks: remove halves, quarters, ... that do not matter.
    for (let size = best.length >> 1; size >= 16 && budget > 0; size >>= 1) {
      for (let at = 64; at + size <= best.length && budget-- > 0; at += size) {
        const cand = Buffer.concat([best.subarray(0, at), best.subarray(at + size)]);
        if (await same(cand)) {
          best = cand;
          at -= size;
        }
      }
    }
    return best;
  };

  const record = async (w: Worker, stage: Stage, input: Input, o: Outcome) => {
    const f = figures[stage]!;
    f.inputs++;
    if (o.unreadable) f.unreadable++;
    if (o.kind === 'ok') return;
    if (o.kind === 'crash') f.crashes++;
    else if (o.kind === 'hang') f.hangs++;
    else if (o.kind === 'memory') f.memory++;
    else {
      f.problems++;
      f.lostNeighbours += o.lost ?? 0;
    }
    const key = `${stage}/${o.kind}/${o.message.replace(/\d+/g, 'N')}`;
    const finding: Finding = { stage, kind: o.kind, message: o.message, seed: input.seed, mutation: input.mutation };
    findings.push(finding);
    log(`FINDING ${stage} ${o.kind}: ${o.message} (${path.basename(input.seed)}: ${input.mutation})`);
    if (seen.has(key) || !opts.outDir) return;
    seen.add(key);
    mkdirSync(opts.outDir, { recursive: true });
    let bytes: Uint8Array;
    let ext: string;
    if (input.job.stage === 'stream') {
      const j = input.job;
      bytes = Buffer.from(JSON.stringify({ stream: j.hex, spans: j.spans, at: j.at, value: j.value, cuts: j.cuts }, null, 1));
      ext = '.json';
    } else {
      bytes = await minimise(w, input, o);
      ext = path.extname(input.seed);
    }
    const name = `${stage}-${o.kind}-${createHash('sha1').update(bytes).digest('hex').slice(0, 10)}${ext}`;
    finding.file = path.join(opts.outDir, name);
    writeFileSync(finding.file, bytes);
    const how = input.job.stage === 'stream' ? 'node --import tsx -e "see fuzz/neighbours.ts checkNeighbours with these arguments"' : `npx vgatt ${stage === 'stream' ? 'decode' : stage === 'diff' ? `diff ${input.seed}` : stage} ${finding.file}`;
    writeFileSync(`${finding.file}.txt`, `stage: ${stage}\nkind: ${o.kind}\n${o.message}\nseed: ${input.seed}\nmutation: ${input.mutation}\nminimised to ${bytes.length} bytes\nreproduce: ${how}\n`);
  };

  const order: Stage[] = [];
  for (let i = 0; i < opts.inputs; i++) for (const s of stages) order.push(s);
  let next = 0;
  const deadline = t0 + opts.seconds * 1000;
  let lastLog = t0;
  await Promise.all(
    workers.map(async (w, wi) => {
      while (next < order.length && performance.now() < deadline) {
        const stage = order[next++]!;
        const input = await makeInput(stage, wi);
        const o = classify(await w.run(input.job));
        // A worker over its memory limit starts afresh: the next input is measured alone.
        if (o.kind === 'memory') w.stop();
        await record(w, stage, input, o);
        if (input.job.stage !== 'stream') rmSync(input.job.path, { force: true });
        if (performance.now() - lastLog > 30_000) {
          lastLog = performance.now();
          log(`${Math.round((lastLog - t0) / 1000)} s: ${Object.entries(figures).map(([s, f]) => `${s} ${f.inputs}`).join(', ')}`);
        }
      }
    }),
  );
  for (const w of workers) w.stop();
  rmSync(tmp, { recursive: true, force: true });
  return { stages: figures, findings, seconds: (performance.now() - t0) / 1000, seeds: seeds.length };
}

/** The figures as a Markdown table (README, reports). */
export function figuresTable(r: CampaignResult): string {
  const rows = Object.entries(r.stages).map(([s, f]) => `| ${s} | ${f.inputs} | ${f.crashes} | ${f.hangs} | ${f.memory} | ${f.lostNeighbours} | ${f.problems} | ${f.unreadable} |`);
  return ['| stage | inputs | crashes | hangs | memory | lost neighbours | other problems | refused (exit 1) |', '|---|---|---|---|---|---|---|---|', ...rows].join('\n');
}
