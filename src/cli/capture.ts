import type { CliIo } from './command.js';

export type CapturedIo = CliIo & { out: () => string; err: () => string };

/**
 * An in-memory CliIo for running commands in-process (tests, benchmarks): stdout and stderr are
 * captured, stderr is not a terminal, and the signal never fires.
 */
export function captureIo(cwd = '/nonexistent', env: Record<string, string | undefined> = {}): CapturedIo {
  let out = '';
  let err = '';
  return {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    env,
    cwd,
    stderrIsTty: false,
    signal: new AbortController().signal,
    out: () => out,
    err: () => err,
  };
}
