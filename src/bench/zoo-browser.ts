/**
 * `npm run bench:zoo -- --browser`: the zoo timed where tfjs-wasm users run it, in a web page.
 * tfjs-backend-wasm runs XNNPACK on a thread pool only in a browser page that is cross-origin
 * isolated (in Node it refuses threads, tfjs#3830); its FusedBatchNorm stays a scalar loop on one
 * thread either way, so the share of a model's time that folding removes depends on where it runs.
 *
 * The models (each zoo row's original and folded model.json + weights.bin, and its input) are in a
 * directory; this serves them from node:http on 127.0.0.1 with the page (src/bench/zoo-page.ts,
 * bundled with tfjs-core, tfjs-layers and tfjs-backend-wasm from node_modules by esbuild) and the
 * .wasm binaries, and drives one headless chromium through a list of jobs: each job is one row in
 * one setting, loaded as a fresh document. An isolated job's document is served with
 * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`
 * (`crossOriginIsolated` true: the threaded SIMD build, on the job's number of threads); a plain
 * job's without them (most sites: the SIMD build on one thread, the binary Node runs).
 *
 * Any failure is one BrowserBenchError line: no chromium, a page error, any console message, a
 * result that fails the caller's check, a job with no answer in time, chromium exiting early.
 */
import { build } from 'esbuild';
import { spawn, spawnSync } from 'node:child_process';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the page is asked to do: time one zoo row (the directory `models/<model>/`). */
export interface PageJob {
  readonly id: number;
  readonly model: string;
  /** Served cross-origin isolated (threads) or not (one thread). */
  readonly isolated: boolean;
  /**
   * Isolated only: the size of XNNPACK's thread pool. tfjs-wasm 4.22 caps it at
   * navigator.hardwareConcurrency / 2 (it takes every core for two hyperthreads), which on a
   * machine without hyperthreads halves it; the page lifts that cap to give this many. Absent:
   * what tfjs-wasm picks itself.
   */
  readonly threads?: number;
  readonly runs: number;
  readonly warmup: number;
  /** Also time a second copy of the original in the same rounds (the A/A ratio). */
  readonly control: boolean;
  /** The model's input shapes, batch included; input.bin holds them in order, float32. */
  readonly inputShapes: readonly (readonly number[])[];
}

/** What the page measured. */
export interface PageResult {
  readonly job: number;
  readonly crossOriginIsolated: boolean;
  /** tf.getBackend(). */
  readonly backend: string;
  readonly simd: boolean;
  /** tfjs-backend-wasm's getThreadsCount(): XNNPACK's thread pool size. */
  readonly threads: number;
  /** navigator.hardwareConcurrency as the browser reports it (before the page lifts tfjs-wasm's cap). */
  readonly hardwareConcurrency: number;
  readonly userAgent: string;
  readonly originalMs: number;
  readonly foldedMs: number;
  readonly copyMs?: number;
  /** Largest |original - folded| over the outputs, relative to the original's largest |output| (or 1). */
  readonly maxRelDiff: number;
  readonly params: number;
  readonly paramsAfter: number;
  /** tf.memory().numTensors after the job, less before it: 0 unless something leaked. */
  readonly tensorsLeft: number;
}

/** The server's answer to a result: whether the page reloads for another job. */
export interface PageReply {
  readonly next: boolean;
}

export interface PageRun {
  readonly job: PageJob;
  readonly result: PageResult;
  /** 1-minute load average when the job was handed out and when its result came. */
  readonly load: readonly [number, number];
}

export class BrowserBenchError extends Error {
  override readonly name = 'BrowserBenchError';
}

/** Chromium on PATH, or at SHAPEFOLD_CHROMIUM. */
export function findChromium(): string | undefined {
  const candidates = [process.env.SHAPEFOLD_CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome'].filter((c): c is string => c !== undefined && c !== '');
  return candidates.find((c) => spawnSync(c, ['--version'], { encoding: 'utf8' }).status === 0);
}

/** The page script: zoo-page.ts and the tfjs packages it imports, one ES module. */
async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./zoo-page.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

const wasmDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
const PAGE_HTML = '<!DOCTYPE html>\n<meta charset="utf-8">\n<title>shapefold bench:zoo</title>\n<script type="module" src="/page.js"></script>\n';
const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
const CONTENT_TYPES: Readonly<Record<string, string>> = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm', '.bin': 'application/octet-stream' };

/** Whether chromium's log line is a console message of the page. Chromium logs every level as `INFO:CONSOLE`, and the page logs nothing when all is well, so any message fails the run. */
const isConsoleMessage = (line: string) => /:CONSOLE/.test(line);

/**
 * Runs `jobs` (without their ids) in order in one headless chromium against the models in `dir`,
 * each job at most `timeoutMs`; each result is checked, then shown to `onRun`, as it comes.
 */
export async function runPageJobs(
  dir: string,
  jobs: readonly Omit<PageJob, 'id'>[],
  opts: {
    readonly timeoutMs: number;
    /** The job in words, for messages. */
    readonly describe: (job: PageJob) => string;
    /** What is wrong with a result, if anything: the run stops with it. */
    readonly check?: (run: PageRun) => string | undefined;
    readonly onRun?: (run: PageRun) => void;
  },
): Promise<PageRun[]> {
  const chromium = findChromium();
  if (chromium === undefined) throw new BrowserBenchError('no chromium on PATH or at SHAPEFOLD_CHROMIUM (Debian: apt-get install chromium)');
  const script = await bundlePage().catch((e: unknown) => {
    throw new BrowserBenchError(`bundling the page (src/bench/zoo-page.ts) failed: ${(e as Error).message.split('\n')[0]}`);
  });
  const queue: PageJob[] = jobs.map((job, id) => ({ ...job, id }));
  const runs: PageRun[] = [];
  let current = 0;
  let loadAtStart = loadavg()[0];
  let settle: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  const fail = (message: string) => settle?.reject(new BrowserBenchError(message));
  const job = () => queue[current];
  const where = () => (current < queue.length ? ` (${opts.describe(job())})` : '');

  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => fail(`timeout: no result from the page in ${opts.timeoutMs / 1000} s${where()}`), opts.timeoutMs);
  };

  const send = (res: ServerResponse, status: number, body: string | Uint8Array, type: string, isolated: boolean) => {
    res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'Cross-Origin-Resource-Policy': 'same-origin', ...(isolated ? ISOLATION_HEADERS : {}) });
    res.end(body);
  };
  const body = async (req: IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const isolated = current < queue.length && job().isolated;
    if (req.method === 'POST' && path === '/error') {
      const { message } = (await body(req)) as { message: string };
      send(res, 204, '', 'text/plain', isolated);
      fail(`page error${where()}: ${message}`);
      return;
    }
    if (req.method === 'POST' && path === '/result') {
      const result = (await body(req)) as PageResult;
      if (current >= queue.length || result.job !== job().id) {
        send(res, 409, '{}', CONTENT_TYPES['.json'], isolated);
        fail(`the page answered job ${result.job}, not the job it was given${where()}`);
        return;
      }
      const run = { job: job(), result, load: [loadAtStart, loadavg()[0]] as const };
      const problem = opts.check?.(run);
      if (problem !== undefined) {
        send(res, 200, JSON.stringify({ next: false } satisfies PageReply), CONTENT_TYPES['.json'], isolated);
        fail(`${opts.describe(run.job)}: ${problem}`);
        return;
      }
      runs.push(run);
      opts.onRun?.(run);
      current++;
      loadAtStart = loadavg()[0];
      const next = current < queue.length;
      send(res, 200, JSON.stringify({ next } satisfies PageReply), CONTENT_TYPES['.json'], isolated);
      if (next) arm();
      else settle?.resolve();
      return;
    }
    if (req.method !== 'GET') return send(res, 405, 'method not allowed', 'text/plain', isolated);
    if (path === '/') return send(res, 200, PAGE_HTML, CONTENT_TYPES['.html'], isolated);
    if (path === '/page.js') return send(res, 200, script, CONTENT_TYPES['.js'], isolated);
    if (path === '/job') return send(res, 200, JSON.stringify(current < queue.length ? job() : null), CONTENT_TYPES['.json'], isolated);
    const file = /^\/wasm\/(tfjs-backend-wasm[-a-z]*\.wasm)$/.exec(path)?.[1];
    const local = file !== undefined ? join(wasmDir, file) : path.startsWith('/models/') ? normalize(join(dir, path.slice('/models/'.length))) : undefined;
    if (local === undefined || (file === undefined && !local.startsWith(dir + sep))) return send(res, 404, 'not found', 'text/plain', isolated);
    const bytes = await readFile(local).catch(() => undefined);
    if (bytes === undefined) return send(res, 404, 'not found', 'text/plain', isolated);
    send(res, 200, bytes, CONTENT_TYPES[local.slice(local.lastIndexOf('.'))] ?? 'application/octet-stream', isolated);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, 'server error', 'text/plain', false);
      fail(`serving ${req.url ?? ''}: ${(e as Error).message}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const profile = await mkdtemp(join(tmpdir(), 'shapefold-chromium-'));
  const browser = spawn(
    chromium,
    [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-extensions',
      `--user-data-dir=${profile}`,
      '--enable-logging=stderr',
      '--v=0',
      `http://127.0.0.1:${port}/`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  browser.stderr.setEncoding('utf8');
  browser.stderr.on('data', (chunk: string) => {
    stderr += chunk;
    const lines = stderr.split('\n');
    stderr = lines.pop() ?? '';
    const error = lines.find(isConsoleMessage);
    if (error !== undefined) fail(`page console message${where()}: ${error.replace(/^\[[^\]]*\]\s*/, '')}`);
  });
  const exited = new Promise<void>((resolve) => {
    browser.on('exit', (code, signal) => {
      fail(`chromium exited (${signal ?? `code ${code}`}) before the last result${where()}`);
      resolve();
    });
    browser.on('error', (e) => {
      fail(`chromium (${chromium}) did not start: ${e.message}`);
      resolve();
    });
  });
  arm();
  try {
    await done;
    return runs;
  } finally {
    clearTimeout(timer);
    if (browser.exitCode === null && browser.signalCode === null) browser.kill('SIGTERM');
    await exited;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(profile, { recursive: true, force: true });
  }
}
