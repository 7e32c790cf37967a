import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NODE_FLAGS } from './node-flags.js';

describe('NODE_FLAGS', () => {
  it('are the flags bin/mullet execs Node with (the launcher cannot import them)', () => {
    const launcher = readFileSync(new URL('../../bin/mullet', import.meta.url), 'utf8').split('\n');
    expect(launcher[0]).toBe('#!/bin/sh');
    expect(launcher[1]).toBe(`":" //; exec node ${NODE_FLAGS.join(' ')} "$0" "$@"`);
  });
});
