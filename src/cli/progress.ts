/**
 * Progress of the CLI's long stages (import, fold and probe, export), on stderr so stdout stays
 * the command's output. On a terminal each stage shows a live line, with a bar when the work
 * reports its steps, replaced by its time when done; elsewhere (logs, CI) a stage writes one plain
 * line when done, and only if it took long enough for anyone to wonder.
 */
const BAR_WIDTH = 24;
const WORTH_A_LINE_MS = 1000;

export type Tick = (done: number, total: number) => void;

export interface Progress {
  /** Runs `work` as a stage named `label`; `work` may report its steps through `tick`. */
  stage<T>(label: string, work: (tick: Tick) => Promise<T> | T): Promise<T>;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, opts: { verbose?: boolean } = {}): Progress {
  const live = stream.isTTY === true;
  const draw = (text: string) => {
    if (live) stream.write(`\r\x1b[2K${text}`);
  };
  return {
    async stage(label, work) {
      const start = performance.now();
      let lastDraw = 0;
      draw(`${label} ...`);
      const tick: Tick = (done, total) => {
        const now = performance.now();
        if (!live || (now - lastDraw < 100 && done < total)) return;
        lastDraw = now;
        const filled = total > 0 ? Math.round((BAR_WIDTH * Math.min(done, total)) / total) : 0;
        draw(`${label} [${'#'.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}] ${done}/${total}`);
      };
      try {
        return await work(tick);
      } finally {
        const ms = performance.now() - start;
        if (live) stream.write('\r\x1b[2K');
        if (opts.verbose === true || ms >= WORTH_A_LINE_MS) stream.write(`${label}: ${(ms / 1000).toFixed(2)} s\n`);
      }
    },
  };
}
