import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (two levels above src/testing). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The real shared data directory used by tests: $MULLET_DATA, else ../shared/data beside the repo.
 * Real data is read from there, never copied into the project.
 */
export function sharedDataDir(): string {
  const env = process.env.MULLET_DATA;
  return env && env !== '' ? path.resolve(env) : path.resolve(REPO_ROOT, '..', 'shared', 'data');
}

export function hasSharedData(): boolean {
  return existsSync(path.join(sharedDataDir(), 'PROVENANCE.md'));
}

export function sharedFile(...parts: string[]): string {
  return path.join(sharedDataDir(), ...parts);
}

/**
 * Tests that read real data skip (with this reason) only when the data is absent outside CI;
 * under CI (CI=true) they always run, so a missing data directory fails loudly.
 */
export const skipWithoutSharedData = !hasSharedData() && !process.env.CI;
export const SKIP_REASON = `real data not found at ${sharedDataDir()} (set MULLET_DATA)`;
