import { statusObject } from '../cgminer-wire.js';
import type { SimMiner } from '../miner.js';
import { toWire, type Wire } from '../wire-json.js';
import { answerCgminer } from './antminer-stock.js';
import { CGMINER_COMMANDS, fanRpm, isMiningState, sensorC, shareCounters, uptimeS, type FirmwareBehaviour } from './common.js';

/**
 * Braiins OS+ legacy cgminer API (BOSminer) on 4028: MHS units, data keys sorted (BOSminer
 * serialises with sorted maps), STATUS in cgminer order. Control is `pause` (Code 204,
 * "PAUSE":[true]: hashboards and PSU output off) and `resume` (Code 205, "RESUME":[true], which
 * returns before the boards are back: the ramp takes seconds). No authentication on this API.
 */
const DESCRIPTION = 'BOSminer+ 0.2.0-36c56a9363';

function status(m: SimMiner, code: number, msg: string, letter: 'S' | 'E' = 'S'): Wire[] {
  return [statusObject({ letter, code, msg, description: DESCRIPTION, whenS: m.whenS() })];
}

function sorted(obj: Record<string, Wire>): Record<string, Wire> {
  const out: Record<string, Wire> = {};
  for (const k of Object.keys(obj).sort()) out[k] = obj[k] as Wire;
  return out;
}

function summary(m: SimMiner): Record<string, Wire> {
  const tel = m.read();
  const mining = isMiningState(tel);
  const elapsedS = uptimeS(m);
  const c = shareCounters(m, tel, elapsedS, mining);
  const mhs = tel.hashrateThs * 1e6;
  const avg = mining ? tel.targetHashrateThs * 1e6 : 0;
  return {
    STATUS: status(m, 11, 'Summary'),
    SUMMARY: [
      sorted({
        Accepted: c.accepted,
        'Best Share': c.bestShare,
        'Device Hardware%': c.accepted + c.hwErrors > 0 ? (100 * c.hwErrors) / (c.accepted + c.hwErrors) : 0,
        'Device Rejected%': 0,
        'Difficulty Accepted': c.diffAccepted,
        'Difficulty Rejected': c.diffRejected,
        'Difficulty Stale': 0,
        Discarded: 0,
        Elapsed: elapsedS,
        'Found Blocks': 0,
        'Get Failures': 0,
        Getworks: c.getworks,
        'Hardware Errors': c.hwErrors,
        'Last getwork': m.whenS(),
        'Local Work': c.discarded,
        'MHS 15m': avg,
        'MHS 1m': mhs,
        'MHS 24h': c.avgGhs * 1000,
        'MHS 5m': avg,
        'MHS 5s': mhs,
        'MHS av': c.avgGhs * 1000,
        'Network Blocks': 0,
        'Pool Rejected%': 0,
        'Pool Stale%': 0,
        Rejected: c.rejected,
        'Remote Failures': 0,
        Stale: 0,
        'Total MH': c.totalMh,
        Utility: elapsedS > 0 ? (c.accepted * 60) / elapsedS : 0,
        'Work Utility': elapsedS > 0 ? (c.diffAccepted * 60) / elapsedS / 1e6 : 0,
      }),
    ],
    id: 1,
  };
}

function handle(m: SimMiner, cmd: string): Record<string, Wire> {
  switch (cmd) {
    case 'pause':
      m.sleep('pause');
      return { STATUS: status(m, 204, 'Pause'), PAUSE: [true], id: 1 };
    case 'resume':
      m.wake('resume');
      return { STATUS: status(m, 205, 'Resume'), RESUME: [true], id: 1 };
    case 'summary':
      return summary(m);
    case 'version':
      return {
        STATUS: status(m, 22, 'BOSminer versions'),
        VERSION: [sorted({ API: '3.7', BOSminer: DESCRIPTION.split(' ')[1] ?? '', Type: m.model.name })],
        id: 1,
      };
    case 'fans': {
      const tel = m.read();
      const speed = Math.round((100 * tel.fanRpm) / m.model.maxFanRpm);
      return {
        STATUS: status(m, 202, `${m.model.fans} Fan(s)`),
        FANS: Array.from({ length: m.model.fans }, (_, i) => ({ FAN: i, ID: i, RPM: fanRpm(m, tel, i + 1), Speed: speed })),
        id: 1,
      };
    }
    case 'temps': {
      const tel = m.read();
      return {
        STATUS: status(m, 201, `${m.model.chains} Temp(s)`),
        TEMPS: Array.from({ length: m.model.chains }, (_, i) => ({
          Board: sensorC(m, tel.boardTempC, i, 0),
          Chip: sensorC(m, tel.chipTempC, i, 4),
          ID: i,
          TEMP: i,
        })),
        id: 1,
      };
    }
    case 'tunerstatus': {
      const tel = m.read();
      const perChain = Math.round(tel.powerW / m.model.chains);
      return {
        STATUS: status(m, 203, 'Tuner Status'),
        TUNERSTATUS: [
          {
            ApproximateChainPowerConsumption: perChain * m.model.chains,
            ApproximateMinerPowerConsumption: Math.round(tel.powerW),
            DynamicPowerScaling: 'Disabled',
            PowerLimit: Math.round(tel.targetPowerW),
            TunerChainStatus: Array.from({ length: m.model.chains }, (_, i) => ({
              ApproximatePowerConsumptionWatt: perChain,
              HashchainIndex: i,
              Iteration: 0,
              LoadedProfileCreatedOn: m.whenS() - 86_400,
              PowerLimitWatt: Math.round(tel.targetPowerW / m.model.chains),
              StageElapsed: 0,
              Status: isMiningState(tel) ? 'Stable' : 'Paused',
              TunerRunning: false,
              TuningElapsed: 0,
            })),
          },
        ],
        id: 1,
      };
    }
    case 'pools':
      return {
        STATUS: status(m, 7, '1 Pool(s)'),
        POOLS: [sorted({ POOL: 0, Priority: 0, Quota: 1, Status: 'Alive', 'Stratum Active': true, URL: 'stratum+tcp://stratum.sim.invalid:3333', User: `sim.${m.index}` })],
        id: 1,
      };
    default:
      return {
        STATUS: CGMINER_COMMANDS.has(cmd) ? status(m, 45, `Access denied to '${cmd}' command`, 'E') : status(m, 14, 'Invalid command', 'E'),
        id: 1,
      };
  }
}

export const braiinsLegacy: FirmwareBehaviour = {
  id: 'braiins-legacy',
  label: () => DESCRIPTION,
  api(m, req) {
    return answerCgminer(req, (cmd) => handle(m, cmd));
  },
  apiError(m, code, msg) {
    return { reply: toWire({ STATUS: status(m, code, msg, 'E'), id: 1 }) };
  },
};
