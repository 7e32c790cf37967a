import type { CliIo } from '../cli/command.js';
import { runCli } from '../cli/run.js';

export type CapturedIo = CliIo & { out: () => string; err: () => string };

/** An in-memory CliIo for in-process CLI tests: stdout/stderr captured, no TTY, never aborted. */
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

/** Runs `mullet <argv>` in-process and returns the exit code and captured output. */
export async function runCapture(argv: readonly string[], io: CapturedIo = captureIo()): Promise<{ code: number; out: string; err: string }> {
  const code = await runCli(argv, io);
  return { code, out: io.out(), err: io.err() };
}
