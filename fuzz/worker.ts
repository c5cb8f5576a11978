/**
 * A fuzz worker: a child process that runs one input at a time (the parent enforces the time limit by
 * killing it, the memory limit by --max-old-space-size and the RSS it reports) and answers with the
 * outcome, or the exception as a crash.
 */
import { fromHex } from '../src/util/cursor.js';
import { runStage, runStream, type Stage } from './stages.js';

export type Job =
  | { id: number; stage: Exclude<Stage, 'stream'>; path: string; size: number; seedPath: string }
  | { id: number; stage: 'stream'; hex: string; spans: { start: number; end: number }[]; at: number; value: number; cuts: number[] };

export type Answer = { id: number; rssMb: number } & ({ ok: true; records: number; unreadable?: string; problems: string[]; lost?: number } | { ok: false; crash: string; stack: string });

process.on('message', async (job: Job) => {
  let answer: Answer;
  try {
    const o = job.stage === 'stream' ? runStream(fromHex(job.hex), job.spans, job.at, job.value, job.cuts) : await runStage(job.stage, job.path, job.size, job.seedPath);
    answer = { id: job.id, rssMb: process.memoryUsage().rss / 2 ** 20, ok: true, ...o };
  } catch (e) {
    const err = e as Error;
    answer = { id: job.id, rssMb: process.memoryUsage().rss / 2 ** 20, ok: false, crash: `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`, stack: err?.stack ?? '' };
  }
  process.send!(answer);
});
process.send!({ ready: true });
