/**
 * Progress of the CLI's long stages (import, fold, probe, export), on stderr so stdout stays the
 * command's output. Work reports its steps through `tick(done, total, step)`: 'layers' 120/311,
 * 'probe' 12/55, or a count with no total ('fold' 23).
 *
 * On a terminal each stage shows one live line, redrawn at most every 100 ms: the step's name
 * and a bar with done/total (or the count), replaced by the stage's time when done. Elsewhere
 * (logs, CI) nothing is redrawn. Either way a stage ends with one plain line, its time and what
 * each step did in how long, if it took long enough for anyone to wonder (or with --verbose).
 */
const BAR_WIDTH = 24;
const REDRAW_MS = 100;
const WORTH_A_LINE_MS = 1000;

export type Tick = (done: number, total?: number, step?: string) => void;

/** `tick` as the readers' onProgress(step, done, total) calls it. */
export const stepTicker =
  (tick: Tick) =>
  (step: string, done: number, total: number): void =>
    tick(done, total, step);

export interface Progress {
  /** Runs `work` as a stage named `label`; `work` may report its steps through `tick`. */
  stage<T>(label: string, work: (tick: Tick) => Promise<T> | T): Promise<T>;
}

/** The stream progress is written to: a TTY draws live lines. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

interface Step {
  readonly name: string;
  done: number;
  total?: number;
  readonly start: number;
  end: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** 'fold 53 in 0.70 s' or 'probe 55/55 in 2.10 s'. */
function stepSummary(step: Step): string {
  return `${step.name} ${step.done}${step.total === undefined ? '' : `/${step.total}`} in ${seconds(step.end - step.start)}`;
}

/** The live line: 'fold and probe (fast): probe [#####       ] 12/55'. */
export function progressLine(label: string, step: string | undefined, done: number, total: number | undefined): string {
  const name = step === undefined ? label : `${label}: ${step}`;
  if (total === undefined) return `${name} ${done}`;
  const filled = total > 0 ? Math.round((BAR_WIDTH * Math.min(done, total)) / total) : 0;
  return `${name} [${'#'.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}] ${done}/${total}`;
}

export function createProgress(stream: ProgressStream = process.stderr, opts: { verbose?: boolean; now?: () => number } = {}): Progress {
  const live = stream.isTTY === true;
  const now = opts.now ?? (() => performance.now());
  const draw = (text: string) => {
    if (live) stream.write(`\r\x1b[2K${text}`);
  };
  return {
    async stage(label, work) {
      const start = now();
      let lastDraw = -Infinity;
      const steps: Step[] = [];
      draw(`${label} ...`);
      const tick: Tick = (done, total, stepName) => {
        const t = now();
        const name = stepName ?? '';
        let step = steps[steps.length - 1];
        if (step === undefined || step.name !== name) {
          step = { name, done, start: step?.end ?? start, end: t };
          steps.push(step);
        }
        step.done = done;
        if (total === undefined) delete step.total;
        else step.total = total;
        step.end = t;
        const finished = total !== undefined && done >= total;
        if (!live || (t - lastDraw < REDRAW_MS && !finished)) return;
        lastDraw = t;
        draw(progressLine(label, stepName, done, total));
      };
      try {
        return await work(tick);
      } finally {
        const ms = now() - start;
        if (live) stream.write('\r\x1b[2K');
        if (opts.verbose === true || ms >= WORTH_A_LINE_MS) {
          const named = steps.filter((s) => s.name !== '');
          stream.write(`${label}: ${seconds(ms)}${named.length > 0 ? ` (${named.map(stepSummary).join(', ')})` : ''}\n`);
        }
      }
    },
  };
}
