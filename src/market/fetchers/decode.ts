import type { z } from 'zod';
import { MulletError } from '../../core/errors.js';

/** Validates `value` with `schema`; a mismatch is a PARSE error naming the URL and the first bad path. */
export function decode<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue?.path.length ? issue.path.map(String).join('.') : '(root)';
  throw new MulletError('PARSE', `unexpected response shape at ${path}: ${issue?.message ?? 'invalid'}`, { where, cause: r.error });
}
