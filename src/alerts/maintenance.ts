/** Is an instant inside a maintenance window (UTC)? Pure. */
import { WEEKDAYS, type MaintenanceWindow } from './config.js';

const MS_DAY = 86_400_000;
const minutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export function inWindow(w: MaintenanceWindow, atMs: number): boolean {
  if ('from' in w) return atMs >= Date.parse(w.from) && atMs < Date.parse(w.to);
  const start = minutes(w.daily.start) * 60_000;
  const end = minutes(w.daily.end) * 60_000;
  const day0 = Math.floor(atMs / MS_DAY) * MS_DAY;
  // The window that started today, or (past midnight) the one that started yesterday.
  for (const startDay of [day0, day0 - MS_DAY]) {
    const from = startDay + start;
    const to = startDay + (end > start ? end : end + MS_DAY);
    const dow = WEEKDAYS[new Date(startDay).getUTCDay()] as (typeof WEEKDAYS)[number];
    if (atMs >= from && atMs < to && (w.days === undefined || w.days.includes(dow))) return true;
  }
  return false;
}

export function inMaintenance(ws: readonly MaintenanceWindow[], atMs: number): boolean {
  return ws.some((w) => inWindow(w, atMs));
}
