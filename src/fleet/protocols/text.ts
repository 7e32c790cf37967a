/**
 * Linear-time trims for device replies. V8's regex engine backtracks on `/[\0\s]+$/` and
 * `/\0+$/`: every position of a run of n spaces (or NULs) that is not at the end rescans the run,
 * O(n²) — a reply with 40 KB of spaces before its last byte took 0.7 s to trim, one of 4 MB (the
 * reply cap) would have held the agent's event loop for hours.
 */

/** `text` without trailing NULs and whitespace (the characters of `\s`). */
export function trimEndNulAndSpace(text: string): string {
  let t = text;
  for (;;) {
    const u = t.trimEnd();
    let end = u.length;
    while (end > 0 && u.charCodeAt(end - 1) === 0) end--;
    if (end === t.length) return t;
    t = u.slice(0, end);
  }
}

/** `text` without trailing NULs (AES block padding, C string ends). */
export function trimEndNul(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0) end--;
  return end === text.length ? text : text.slice(0, end);
}
