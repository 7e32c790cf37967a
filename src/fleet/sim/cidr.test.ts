import { describe, expect, it } from 'vitest';
import { MulletError } from '../../core/errors.js';
import { allocateAddresses, parseLoopbackCidr, usableAddressCount } from './cidr.js';
import { apportion, assignFleet, parseFirmwareMix, parseModelMix } from './mix.js';

describe('loopback address allocation', () => {
  it('takes addresses in order and skips .0 and .255', () => {
    const ips = allocateAddresses('127.20.0.0/16', 256);
    expect(ips.slice(0, 3)).toEqual(['127.20.0.1', '127.20.0.2', '127.20.0.3']);
    expect(ips[253]).toBe('127.20.0.254');
    expect(ips[254]).toBe('127.20.1.1');
    expect(ips.some((ip) => ip.endsWith('.0') || ip.endsWith('.255'))).toBe(false);
  });
  it('normalises the network address and counts usable hosts', () => {
    expect(parseLoopbackCidr('127.20.5.9/16')).toEqual({ network: (127 << 24 >>> 0) + (20 << 16), prefix: 16 });
    expect(usableAddressCount(parseLoopbackCidr('127.20.0.0/16'))).toBe(65536 - 512);
    expect(usableAddressCount(parseLoopbackCidr('127.21.0.0/24'))).toBe(254);
    expect(allocateAddresses('127.21.0.7/32', 1)).toEqual(['127.21.0.7']);
  });
  it('refuses non-loopback blocks, malformed input and too-small blocks with the flag named', () => {
    for (const bad of ['10.0.0.0/8', '127.0.0.0/40', '127.1.2', 'x/16']) {
      const err = (() => {
        try {
          allocateAddresses(bad, 1);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(MulletError);
      expect((err as MulletError).code).toBe('BAD_INPUT');
      expect((err as MulletError).where).toBe('--cidr');
    }
    expect(() => allocateAddresses('127.21.0.0/24', 255)).toThrow(/254 usable/);
  });
});

describe('fleet mix', () => {
  it('apportions exactly with the largest remainder', () => {
    expect(apportion([50, 30, 20], 10)).toEqual([5, 3, 2]);
    expect(apportion([1, 1, 1], 10)).toEqual([4, 3, 3]);
    expect(apportion([2, 1], 1)).toEqual([1, 0]);
  });
  it('assigns firmwares in exact proportions, models by vendor, deterministically', () => {
    const fw = parseFirmwareMix('antminer-stock:50,luxos:30,whatsminer-v2:20');
    const models = parseModelMix('Antminer S21:1,s19xp:1,m60s:1');
    const a = assignFleet(100, fw, models, 7);
    expect(a.filter((x) => x.firmware === 'antminer-stock')).toHaveLength(50);
    expect(a.filter((x) => x.firmware === 'whatsminer-v2').every((x) => x.model.id === 'm60s')).toBe(true);
    expect(a.filter((x) => x.firmware === 'luxos').every((x) => x.model.vendor === 'bitmain')).toBe(true);
    expect(a.filter((x) => x.firmware === 'antminer-stock' && x.model.id === 's21')).toHaveLength(25);
    expect(assignFleet(100, fw, models, 7)).toEqual(a);
    expect(assignFleet(100, fw, models, 8).map((x) => x.firmware)).not.toEqual(a.map((x) => x.firmware));
  });
  it('falls back to the vendor default model', () => {
    const a = assignFleet(4, parseFirmwareMix('whatsminer-v2'), parseModelMix('s21'), 1);
    expect(a.every((x) => x.model.id === 'm60s')).toBe(true);
  });
  it('rejects unknown names', () => {
    expect(() => parseFirmwareMix('cgminer:1')).toThrow(/unknown firmware/);
    expect(() => parseModelMix('s99:1')).toThrow(/unknown ASIC model/);
    expect(() => parseModelMix('Avalon A1566')).toThrow(/no simulated firmware/);
    expect(() => parseFirmwareMix('luxos:-1')).toThrow(/NAME:WEIGHT/);
  });
});
