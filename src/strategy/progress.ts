/**
 * Reads the CLI's plain progress lines (`createProgress` on a non-terminal stderr) into one
 * percentage over the job's steps (pure): `strike: 40% (4/10)`, then `strike: done in 1.2 s — …`.
 */
export class ProgressReader {
  private done = 0;
  private currentPct = 0;
  pct = 0;
  message = 'starting';

  /** `steps`: how many labelled runs the job prints (policies; 1 for a plan). */
  constructor(private readonly steps: number) {}

  /** Feeds one stderr line; true when it was a progress line. */
  line(l: string): boolean {
    const text = l.trim();
    if (text === '') return false;
    const pct = /^(.{1,80}?): (\d{1,3})% \((\d+)\/(\d+)\)$/.exec(text);
    const fin = /^(.{1,80}?): done in [\d.]+ s/.exec(text);
    this.message = text.slice(0, 300);
    if (pct) this.currentPct = Math.min(100, Number(pct[2]));
    else if (fin) {
      this.done++;
      this.currentPct = 0;
    } else return false;
    const steps = Math.max(1, this.steps);
    this.pct = Math.min(100, (100 * Math.min(this.done, steps) + (this.done < steps ? this.currentPct : 0)) / steps);
    return true;
  }
}
