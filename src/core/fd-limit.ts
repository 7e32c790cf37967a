/** The process's descriptor budget: the soft `ulimit -n` (Node has no getrlimit). */
import { execFileSync } from 'node:child_process';

/** Soft limit on open descriptors for this process; 1024 when it cannot be read. */
export function softFdLimit(): number {
  try {
    const out = execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 5_000 }).trim();
    const n = out === 'unlimited' ? 1_048_576 : Number(out);
    return Number.isFinite(n) && n > 0 ? n : 1024;
  } catch {
    return 1024;
  }
}
