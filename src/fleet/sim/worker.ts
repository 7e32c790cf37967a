import { describeError } from '../../core/errors.js';
import { SimHost } from './host.js';
import { ParentMessageSchema, type WorkerInit, type WorkerMessage, type WorkerOp } from './ipc.js';
import { findModel } from './models.js';
import { scaledClocks } from './clocks.js';

/**
 * Entry point of a `mullet sim` worker process: serves the miners the supervisor hands it (its
 * share of the file-descriptor budget) and answers ground-truth and fault requests over IPC.
 * Ctrl-C reaches the whole process group; the worker ignores it and lets the supervisor close
 * it in order. If the supervisor goes away, the worker exits.
 */
let host: SimHost | undefined;

function send(msg: WorkerMessage): void {
  process.send?.(msg);
}

async function init(msg: WorkerInit): Promise<void> {
  const clocks = scaledClocks(msg.clock.simEpochMs, msg.clock.wallEpochMs, msg.clock.timeScale);
  const specs = msg.specs.map((s) => ({ index: s.index, ip: s.ip, firmware: s.firmware, model: findModel(s.model), seed: s.seed }));
  host = new SimHost(specs, clocks, { ...msg.host, miner: msg.miner });
  await host.start((bound, total) => send({ t: 'progress', bound, total }));
  send({ t: 'ready', listeners: SimHost.listenerCount(specs) });
}

function run(op: WorkerOp): unknown {
  const h = host;
  if (!h) throw new Error('worker not initialised');
  switch (op.kind) {
    case 'truth':
      return h.truth(op.ip, op.filter ?? {});
    case 'power':
      return h.sitePowerW();
    case 'counts':
      return h.stateCounts();
    case 'fault':
      return h.addFault(op.ip, op.spec);
    case 'clear':
      return h.clearFaults(op.ip);
    case 'act':
      return h.act(op.ip, op.action);
    case 'close':
      // Exiting releases every socket at once; closing 15,000 listeners one by one takes seconds.
      setImmediate(() => process.exit(0));
      return true;
  }
}

process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
process.on('disconnect', () => process.exit(0));
process.on('message', (raw: unknown) => {
  const parsed = ParentMessageSchema.safeParse(raw);
  if (!parsed.success) {
    send({ t: 'error', message: `bad message from the supervisor: ${parsed.error.message}` });
    return;
  }
  const msg = parsed.data;
  if (msg.t === 'init') {
    init(msg).catch((err: unknown) => {
      send({ t: 'error', message: describeError(err) });
      setImmediate(() => process.exit(1));
    });
    return;
  }
  Promise.resolve()
    .then(() => run(msg.op))
    .then(
      (value) => send({ t: 'res', id: msg.id, ok: true, value }),
      (err: unknown) => send({ t: 'res', id: msg.id, ok: false, error: describeError(err) }),
    );
});
