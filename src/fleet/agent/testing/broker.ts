/** The MQTT tests' shared pieces: the local Mosquitto, whether it answers, polling, unique names. */
import net from 'node:net';

export const BROKER = 'mqtt://127.0.0.1:1883';

/** True when something accepts TCP on host:port within `ms`. */
export function reachable(host: string, port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.createConnection({ host, port });
    const t = setTimeout(() => done(false), ms);
    function done(ok: boolean): void {
      clearTimeout(t);
      sock.destroy();
      resolve(ok);
    }
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** Polls `pred` every 50 ms for at most 5 s; throws naming `what` when it never holds. */
export async function until(pred: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100 && !(await pred()); i++) await new Promise((r) => setTimeout(r, 50));
  if (!(await pred())) throw new Error(`timed out waiting for ${what}`);
}

/** A name no other test run uses (topics, client ids). */
export function unique(): string {
  return `${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
}
