import type { CliIo } from './command.js';

export interface Progress {
  /** Reports `done` of `total` units; cheap to call often (output is throttled). */
  update(done: number, total: number): void;
  finish(message?: string): void;
}

/**
 * Progress on stderr: a redrawn bar in a terminal, plain throttled lines otherwise (logs, CI).
 * `nowMs` is injected so callers in the pure core never read the clock themselves.
 */
export function createProgress(io: CliIo, label: string, nowMs: () => number = () => Date.now()): Progress {
  const start = nowMs();
  let lastDraw = -Infinity;
  let lastPct = -1;
  return {
    update(done, total) {
      const t = nowMs();
      const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0;
      if (io.stderrIsTty) {
        if (t - lastDraw < 100 && done < total) return;
        lastDraw = t;
        const width = 30;
        const filled = Math.round((pct / 100) * width);
        const elapsed = ((t - start) / 1000).toFixed(1);
        io.stderr(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}% ${done}/${total} ${elapsed}s`);
      } else {
        // Plain lines every 10 % keep CI logs short.
        const step = Math.floor(pct / 10) * 10;
        if (step === lastPct && done < total) return;
        if (step === lastPct) return;
        lastPct = step;
        io.stderr(`${label}: ${step}% (${done}/${total})\n`);
      }
    },
    finish(message) {
      const elapsed = ((nowMs() - start) / 1000).toFixed(1);
      if (io.stderrIsTty) io.stderr('\r\x1b[K');
      io.stderr(`${label}: done in ${elapsed} s${message ? ` — ${message}` : ''}\n`);
    },
  };
}
