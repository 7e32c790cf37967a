/**
 * Modbus TCP framing (Modbus Application Protocol v1.1b3 and Messaging on TCP/IP v1.0b), pure.
 *
 *   MBAP header (7 bytes): transaction id (u16) | protocol id (u16, 0) | length (u16: unit id +
 *   PDU bytes) | unit id (u8), then the PDU: function code (u8) + data. All big-endian.
 *
 * Example, read 2 input registers at 0x0034 from unit 1 (transaction 7):
 *   request   00 07 00 00 00 06 01 | 04 00 34 00 02
 *   response  00 07 00 00 00 07 01 | 04 04 45 9c 40 00     (4 data bytes = float32 5000.0 W)
 *   exception 00 07 00 00 00 03 01 | 84 02                 (0x80 | fc, code 2: illegal address)
 */
export const MBAP_BYTES = 7;
export const FC_READ_HOLDING = 3;
export const FC_READ_INPUT = 4;
/** Most registers one read may ask for (spec: 125). */
export const MAX_READ_REGISTERS = 125;

export const EXCEPTION = { illegalFunction: 1, illegalDataAddress: 2, illegalDataValue: 3, serverDeviceFailure: 4 } as const;

export interface MbapHeader {
  readonly transactionId: number;
  readonly protocolId: number;
  /** Unit id plus PDU bytes. */
  readonly length: number;
  readonly unitId: number;
}

export function readMbap(buf: Uint8Array): MbapHeader {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return { transactionId: v.getUint16(0), protocolId: v.getUint16(2), length: v.getUint16(4), unitId: v.getUint8(6) };
}

/** Total bytes of the frame starting at `buf[0]`, or undefined until the header is complete. */
export function frameLength(buf: Uint8Array): number | undefined {
  if (buf.length < 6) return undefined;
  return 6 + ((buf[4] as number) << 8) + (buf[5] as number);
}

export function encodeFrame(transactionId: number, unitId: number, pdu: Uint8Array): Buffer {
  const out = Buffer.alloc(MBAP_BYTES + pdu.length);
  out.writeUInt16BE(transactionId & 0xffff, 0);
  out.writeUInt16BE(0, 2);
  out.writeUInt16BE(pdu.length + 1, 4);
  out.writeUInt8(unitId & 0xff, 6);
  out.set(pdu, MBAP_BYTES);
  return out;
}

/** Request PDU for function 3 or 4. */
export function readRequestPdu(fc: 3 | 4, address: number, quantity: number): Uint8Array {
  const pdu = Buffer.alloc(5);
  pdu.writeUInt8(fc, 0);
  pdu.writeUInt16BE(address, 1);
  pdu.writeUInt16BE(quantity, 3);
  return pdu;
}

/** Response PDU with register values. */
export function readResponsePdu(fc: number, registers: readonly number[] | Uint16Array): Uint8Array {
  const pdu = Buffer.alloc(2 + registers.length * 2);
  pdu.writeUInt8(fc, 0);
  pdu.writeUInt8(registers.length * 2, 1);
  for (let i = 0; i < registers.length; i++) pdu.writeUInt16BE((registers[i] as number) & 0xffff, 2 + i * 2);
  return pdu;
}

export function exceptionPdu(fc: number, code: number): Uint8Array {
  return Uint8Array.of((fc | 0x80) & 0xff, code & 0xff);
}

/** Word order of a 32-bit value across two registers: 'big' = high word first (ABCD). */
export type WordOrder = 'big' | 'little';

/** Two registers holding an IEEE-754 float32. */
export function floatToRegisters(value: number, order: WordOrder = 'big'): [number, number] {
  const b = Buffer.alloc(4);
  b.writeFloatBE(value, 0);
  const hi = b.readUInt16BE(0);
  const lo = b.readUInt16BE(2);
  return order === 'big' ? [hi, lo] : [lo, hi];
}

/** The float32 in two registers. */
export function registersToFloat(r0: number, r1: number, order: WordOrder = 'big'): number {
  const b = Buffer.alloc(4);
  const [hi, lo] = order === 'big' ? [r0, r1] : [r1, r0];
  b.writeUInt16BE(hi & 0xffff, 0);
  b.writeUInt16BE(lo & 0xffff, 2);
  return b.readFloatBE(0);
}

/** Modbus exception names, for error messages. */
export function exceptionName(code: number): string {
  switch (code) {
    case 1:
      return 'illegal function';
    case 2:
      return 'illegal data address';
    case 3:
      return 'illegal data value';
    case 4:
      return 'server device failure';
    case 6:
      return 'server device busy';
    case 10:
      return 'gateway path unavailable';
    case 11:
      return 'gateway target failed to respond';
    default:
      return `exception ${code}`;
  }
}
