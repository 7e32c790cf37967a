import { captureIo, type CapturedIo } from '../cli/capture.js';
import { runCli } from '../cli/run.js';

export { captureIo, type CapturedIo } from '../cli/capture.js';

/** Runs `mullet <argv>` in-process and returns the exit code and captured output. */
export async function runCapture(argv: readonly string[], io: CapturedIo = captureIo()): Promise<{ code: number; out: string; err: string }> {
  const code = await runCli(argv, io);
  return { code, out: io.out(), err: io.err() };
}
