import { badInput, MulletError } from '../../core/errors.js';
import { ModbusTcpClient } from './modbus-client.js';
import { registersToFloat, type WordOrder } from './modbus-frame.js';
import { SITE_METER_MAP } from './register-map.js';

/** Reads the metered site power: what the agent trusts over its own estimates. */
export interface MeterReader {
  /** Total site active power (import positive), W. */
  readSitePowerW(signal?: AbortSignal): Promise<number>;
  close(): Promise<void>;
}

export interface ModbusMeterConfig {
  readonly host: string;
  /** Modbus TCP port (502 on real meters). */
  readonly port: number;
  readonly unitId?: number;
  /** 4 = input registers (default), 3 = holding registers. */
  readonly functionCode?: 3 | 4;
  /** Offset of the float32 power register (default 0x0034, SDM630-style total system power). */
  readonly register?: number;
  readonly wordOrder?: WordOrder;
  /** Multiplier from the register's unit to W (1 for W, 1000 for kW). */
  readonly scaleToW?: number;
  readonly timeoutMs?: number;
}

/** A MeterReader over Modbus TCP reading one IEEE-754 float32 (two registers). */
export class ModbusMeterReader implements MeterReader {
  private readonly client: ModbusTcpClient;

  constructor(private readonly cfg: ModbusMeterConfig) {
    this.client = new ModbusTcpClient({ host: cfg.host, port: cfg.port, unitId: cfg.unitId ?? 1, timeoutMs: cfg.timeoutMs ?? 2_000 });
  }

  async readSitePowerW(signal?: AbortSignal): Promise<number> {
    const regs = await this.client.readRegisters(this.cfg.functionCode ?? 4, this.cfg.register ?? SITE_METER_MAP.totalActivePowerW, 2, signal ? { signal } : {});
    const value = registersToFloat(regs[0] ?? 0, regs[1] ?? 0, this.cfg.wordOrder ?? 'big') * (this.cfg.scaleToW ?? 1);
    if (!Number.isFinite(value)) {
      throw new MulletError('PARSE', `meter returned a non-finite power (${value})`, { where: `modbus://${this.cfg.host}:${this.cfg.port}` });
    }
    return value;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** Parses 'HOST:PORT' (e.g. '127.0.0.1:5020'); BAD_INPUT naming `where` otherwise. */
export function parseHostPort(text: string, where: string, defaultPort?: number): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(text.trim());
  const port = m?.[2] !== undefined ? Number(m[2]) : defaultPort;
  if (!m || port === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw badInput(`expected HOST:PORT, got '${text}'`, where);
  }
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
}
