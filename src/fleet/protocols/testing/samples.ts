import { readFileSync } from 'node:fs';
import { sharedFile } from '../../../testing/data.js';

/**
 * Recorded miner replies from ../shared/data/samples/miners (see INDEX.md there). Read at test
 * time, never copied into the repository. The files lost cgminer's trailing NUL; the replay
 * server appends it again.
 */
export function sampleBytes(name: string): Buffer {
  return readFileSync(sharedFile('samples', 'miners', name));
}

export function sampleText(name: string): string {
  return sampleBytes(name).toString('utf8');
}
