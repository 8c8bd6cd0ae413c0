import cliProgress from 'cli-progress';

export interface Progress {
  /** Share done, 0 to 1. */
  update(done: number): void;
  stop(): void;
}

/**
 * A progress bar on stderr for long runs (fleet runs, live scenarios): only
 * on a terminal, and only once a run has taken half a second, so short runs
 * and scripts see nothing.
 */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr, delayMs = 500): Progress {
  if (!stream.isTTY) return { update() {}, stop() {} };
  const started = Date.now();
  let bar: cliProgress.SingleBar | null = null;
  return {
    update(done) {
      if (!bar) {
        if (Date.now() - started < delayMs) return;
        bar = new cliProgress.SingleBar({ stream, format: `${label} |{bar}| {percentage}% virtual time | {duration_formatted}`, hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic);
        bar.start(100, 0);
      }
      bar.update(Math.round(Math.min(1, Math.max(0, done)) * 100));
    },
    stop() {
      bar?.stop();
    },
  };
}
