/**
 * The page of `npm run bench:zoo -- --browser` (src/bench/zoo-browser.ts serves it, bundled with
 * tfjs from node_modules). It asks the server for its job, starts tfjs-backend-wasm (the threaded
 * SIMD build when the page is cross-origin isolated, on the job's number of threads), loads the
 * original and the folded model of one zoo row with stock `tf.loadLayersModel` over HTTP, times
 * them with the same `interleavedMedians` as the Node benchmark, checks that their outputs agree,
 * and posts what it measured back. Each job is a fresh document (the server tells the page to
 * reload), because tfjs-wasm fixes its build and thread count when the backend starts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import { interleavedMedians, maxRelativeDifference } from '../io/predict-timing.ts';
import type { PageJob, PageReply, PageResult } from './zoo-browser.ts';

// The few browser globals the page uses (the project type-checks against Node's globals only).
declare const crossOriginIsolated: boolean;
declare const navigator: { readonly hardwareConcurrency: number; readonly userAgent: string };
declare const location: { reload(): void };
declare function addEventListener(type: 'error' | 'unhandledrejection', listener: (event: { readonly message?: string; readonly reason?: unknown }) => void): void;

const post = (path: string, body: unknown) => fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const reportError = (message: string) => void post('/error', { message });
const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

addEventListener('error', (event) => reportError(event.message ?? 'an error without a message'));
addEventListener('unhandledrejection', (event) => reportError(`unhandled rejection: ${messageOf(event.reason)}`));
// tfjs reports some failures only through console.error; any of them fails the run.
const consoleError = console.error.bind(console);
console.error = (...args: unknown[]) => {
  reportError(`console.error: ${args.map(messageOf).join(' ')}`);
  consoleError(...args);
};

async function run(job: PageJob): Promise<PageResult> {
  // tfjs-wasm picks its build itself, as on any page: threaded SIMD when the page is isolated.
  setWasmPaths('/wasm/');
  const hardwareConcurrency = navigator.hardwareConcurrency;
  if (job.threads !== undefined) {
    // Its pool is capped at hardwareConcurrency / 2, read when the module starts (see PageJob.threads).
    Object.defineProperty(navigator, 'hardwareConcurrency', { value: Math.max(hardwareConcurrency, 2 * job.threads), configurable: true });
    setThreadsCount(job.threads);
  }
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs-backend-wasm did not start');
  await tf.ready();
  const tensorsBefore = tf.memory().numTensors;
  const [original, folded, copy] = await Promise.all([
    loadLayersModel(`/models/${job.model}/original/model.json`),
    loadLayersModel(`/models/${job.model}/folded/model.json`),
    ...(job.control ? [loadLayersModel(`/models/${job.model}/original/model.json`)] : []),
  ]);
  const data = new Float32Array(await (await fetch(`/models/${job.model}/input.bin`)).arrayBuffer());
  let offset = 0;
  const inputs = job.inputShapes.map((shape) => {
    const n = shape.reduce((p, d) => p * d, 1);
    const t = tf.tensor(data.subarray(offset, offset + n), [...shape]);
    offset += n;
    return t;
  });
  const x = inputs.length === 1 ? inputs[0] : inputs;
  const [originalMs, foldedMs, copyMs] = interleavedMedians(copy === undefined ? [original, folded] : [original, folded, copy], x, job.runs, job.warmup);
  const maxRelDiff = maxRelativeDifference(original, folded, x);
  const params = original.countParams();
  const paramsAfter = folded.countParams();
  tf.dispose(inputs);
  for (const m of [original, folded, copy]) m?.dispose();
  return {
    job: job.id,
    crossOriginIsolated,
    backend: tf.getBackend(),
    simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
    threads: getThreadsCount(),
    hardwareConcurrency,
    userAgent: navigator.userAgent,
    originalMs,
    foldedMs,
    ...(copyMs !== undefined ? { copyMs } : {}),
    maxRelDiff,
    params,
    paramsAfter,
    tensorsLeft: tf.memory().numTensors - tensorsBefore,
  };
}

async function main(): Promise<void> {
  const job = (await (await fetch('/job')).json()) as PageJob | null;
  if (job === null) return;
  const result = await run(job);
  const reply = (await (await post('/result', result)).json()) as PageReply;
  if (reply.next) location.reload();
}

main().catch((e: unknown) => reportError(messageOf(e)));
