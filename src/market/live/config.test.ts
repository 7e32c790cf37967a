import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MulletError } from '../../core/errors.js';
import { parseConfig } from '../../core/yaml-doc.js';
import { liveFeedsConfigSchema, resolveLiveFeedsConfig } from './config.js';

/** The section as the ops config embeds it: `feeds:` inside a larger file. */
const opsLike = z.strictObject({ site: z.string(), feeds: liveFeedsConfigSchema.optional() });

function problems(yaml: string): string {
  try {
    parseConfig(opsLike, yaml, 'ops.yaml');
  } catch (err) {
    if (err instanceof MulletError) return `${err.where ?? ''} ${err.message}`;
    throw err;
  }
  throw new Error('expected the config to be refused');
}

describe('live feeds config', () => {
  it('an absent section runs every feed with documented defaults', () => {
    const c = resolveLiveFeedsConfig();
    expect(c.settlementPoints).toEqual(['HB_WEST']);
    expect(c.ercot.channel).toBe('mis');
    expect(c.ercotRt).toMatchObject({ enabled: true, everyMs: 900_000, publishDelayMs: 120_000, staleAfterMs: 2_700_000 });
    expect(c.ercotDa.publishAtMinuteCpt).toBe(13 * 60 + 30);
    expect(c.ercotLoad.everyMs).toBe(3_600_000);
    expect(c.mempool).toMatchObject({ baseUrl: 'https://mempool.space', everyMs: 300_000, interval: '1w' });
    expect(c.ercot.api.subscriptionKeyEnv).toBe('ERCOT_API_SUBSCRIPTION_KEY');
  });

  it('reads a full section', () => {
    const c = parseConfig(
      opsLike,
      [
        'site: site.yaml',
        'feeds:',
        '  settlementPoints: [HB_WEST, LZ_WEST]',
        '  ercot: { channel: api, api: { subscriptionKeyEnv: MY_ERCOT_KEY, idTokenEnv: MY_ERCOT_TOKEN } }',
        '  ercotRt: { everyMinutes: 5, publishDelayS: 60 }',
        '  ercotDa: { publishAtCpt: "14:05", retryEveryMinutes: 10 }',
        '  mempool: { baseUrl: http://127.0.0.1:8999, enabled: false }',
        '  timeoutS: 10',
      ].join('\n'),
      'ops.yaml',
    );
    const r = resolveLiveFeedsConfig(c.feeds);
    expect(r.settlementPoints).toEqual(['HB_WEST', 'LZ_WEST']);
    expect(r.ercot.api.subscriptionKeyEnv).toBe('MY_ERCOT_KEY');
    expect(r.ercotRt.everyMs).toBe(300_000);
    expect(r.ercotDa).toMatchObject({ publishAtMinuteCpt: 14 * 60 + 5, retryEveryMs: 600_000 });
    expect(r.mempool.enabled).toBe(false);
    expect(r.timeoutMs).toBe(10_000);
  });

  it('refuses a secret in the file: there is no key field, and an env NAME must look like one', () => {
    const text = problems(['site: s.yaml', 'feeds:', '  ercot:', '    api:', '      subscriptionKey: 0123abcd'].join('\n'));
    expect(text).toContain('ops.yaml:5');
    expect(text).toContain('feeds.ercot.api.subscriptionKey: unknown key');
    const env = problems(['site: s.yaml', 'feeds:', '  ercot:', '    api: { subscriptionKeyEnv: "0123abcd-secret" }'].join('\n'));
    expect(env).toContain('ops.yaml:4');
    expect(env).toContain('feeds.ercot.api.subscriptionKeyEnv: must be the NAME of an environment variable');
    expect(env).not.toContain('0123abcd-secret');
    const url = problems(['site: s.yaml', 'feeds:', '  mempool: { baseUrl: "https://me:pw@mempool.example" }'].join('\n'));
    expect(url).toContain('feeds.mempool.baseUrl: must not carry credentials');
  });

  it('every problem is located: line and data path', () => {
    const text = problems(
      [
        'site: s.yaml',
        'feeds:',
        '  settlementPoints: [hb_west]',
        '  ercotRt: { everyMinutes: 7 }',
        '  ercotDa: { publishAtCpt: "1:30pm" }',
        '  mempool: { baseUrl: ftp://example.com }',
        '  ercotLoad: { offsetMinutes: 75 }',
      ].join('\n'),
    );
    expect(text).toMatch(/ops\.yaml:3.*feeds\.settlementPoints\[0\]/s);
    expect(text).toMatch(/ops\.yaml:4.*feeds\.ercotRt\.everyMinutes/s);
    expect(text).toMatch(/ops\.yaml:5.*feeds\.ercotDa\.publishAtCpt: must be HH:MM/s);
    expect(text).toMatch(/ops\.yaml:6.*feeds\.mempool\.baseUrl: must be an http\(s\) URL/s);
    expect(text).toMatch(/ops\.yaml:7.*feeds\.ercotLoad\.offsetMinutes/s);
  });

  it('cross-field checks point at the field to change', () => {
    const text = problems(['site: s.yaml', 'feeds:', '  ercotRt: { staleAfterMinutes: 10 }', '  backoff: { baseS: 60, maxS: 30 }'].join('\n'));
    expect(text).toMatch(/ops\.yaml:3.*feeds\.ercotRt\.staleAfterMinutes: must be at least 17/s);
    expect(text).toMatch(/ops\.yaml:4.*feeds\.backoff\.baseS: must not exceed backoff\.maxS \(30\)/s);
  });
});
