import { describe, expect, it } from 'vitest';
import { catalogAsicFor } from '../catalog/catalog.js';
import { skipWithoutSharedData } from '../testing/data.js';
import { luxosTelemetry } from './drivers/luxos.js';
import { whatsminerTelemetry } from './drivers/whatsminer-v2.js';
import { minerId, normalizeMac } from './identity.js';
import { parseReplyText, readStatus, type CgminerReply } from './protocols/cgminer.js';
import { sampleText } from './protocols/testing/samples.js';

describe('miner identity', () => {
  it('normalises MAC addresses and refuses what cannot identify a board', () => {
    expect(normalizeMac('C4:11:04:01:3C:75')).toBe('c4:11:04:01:3c:75');
    expect(normalizeMac('62-f7-5e-b7-10-46')).toBe('62:f7:5e:b7:10:46');
    expect(normalizeMac('b4a2eb312f7c')).toBe('b4:a2:eb:31:2f:7c');
    for (const bad of ['02:55:97:22:3M:72', '00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', '', 'n/a', null, undefined]) expect(normalizeMac(bad)).toBeNull();
  });

  it('ids a miner by its MAC when known, else by address (port only off 4028)', () => {
    expect(minerId({ macAddress: 'c4:11:04:01:3c:75', host: '10.0.0.7', apiPort: 4028 })).toBe('mac:c4:11:04:01:3c:75');
    expect(minerId({ macAddress: null, host: '10.0.0.7', apiPort: 4028 })).toBe('10.0.0.7');
    expect(minerId({ macAddress: null, host: '10.0.0.7', apiPort: 14028 })).toBe('10.0.0.7:14028');
  });

  it('maps firmware model strings to catalog models', () => {
    expect(catalogAsicFor('M60S_VK40')?.model).toBe('Whatsminer M60S');
    expect(catalogAsicFor('WhatsMiner M30S++_VH30')?.model).toBe('Whatsminer M30S++');
    expect(catalogAsicFor('M66S_VL20')?.model).toBe('Whatsminer M66S');
    expect(catalogAsicFor('Antminer S21 Pro (VNish)')?.model).toBe('Antminer S21 Pro');
    expect(catalogAsicFor('Antminer S9\nV1.3.58')?.model).toBe('Antminer S9');
    expect(catalogAsicFor('Antminer S21+')?.model).toBe('Antminer S21+');
    expect(catalogAsicFor('Antminer S21 XP+ Hyd')?.model).toBe('Antminer S21 XP+ Hyd');
    expect(catalogAsicFor('Antminer L7')).toBeNull();
    expect(catalogAsicFor(null)).toBeNull();
  });
});

describe.skipIf(skipWithoutSharedData)('MACs from recorded firmware replies', () => {
  it('Whatsminer summary and LuxOS config carry the board MAC into telemetry', () => {
    const reply = (command: string, text: string): CgminerReply => {
      const body = parseReplyText(text, 'x', true);
      const status = readStatus(body);
      if (!status) throw new Error(`no STATUS in ${command}`);
      return { command, status, body };
    };
    const summary = reply('summary', sampleText('whatsminer-m31s__cgminer__summary.json'));
    expect(whatsminerTelemetry(summary.body, undefined, null, 'x').macAddress).toBe('c6:02:14:00:1f:b3');
    const config = reply('config', sampleText('luxos-s19kpro__cgminer__config.json'));
    const summaryLux = reply('summary', JSON.stringify({ STATUS: [{ STATUS: 'S', Code: 11, Msg: 'Summary', Description: 'LUXminer' }], SUMMARY: [{ 'GHS 5s': 100000 }] }));
    const t = luxosTelemetry(new Map([['config', config], ['summary', summaryLux]]), 'x');
    expect(t.macAddress).toBe('62:f7:5e:b7:10:46');
  });
});
