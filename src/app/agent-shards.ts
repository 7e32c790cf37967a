/**
 * `mullet agent` with `shards: N` in its config: one site's fleet split over N agent shards
 * (worker threads) under a coordinator that shares the import limit (src/fleet/shards). What a
 * sharded site does not support yet is refused at start rather than silently ignored.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { badInput } from '../core/errors.js';
import { systemClock } from '../core/time.js';
import { siteAiMW } from '../fleet/agent/fleet.js';
import { readInventory } from '../fleet/inventory.js';
import { ShardCoordinator } from '../fleet/shards/coordinator.js';
import { shardRoutes } from '../fleet/shards/routes.js';
import { serveHttp, type RunningServer } from '../server/serve.js';
import { parseHostPort } from '../fleet/meter/meter-reader.js';
import { readSite, type AgentRunConfig } from './agent.js';

export interface RunningShardedAgent {
  coordinator: ShardCoordinator;
  http: RunningServer;
  close(): Promise<void>;
}

export async function startShardedAgent(c: AgentRunConfig & { shards: number }): Promise<RunningShardedAgent> {
  const unsupported = (
    [
      ['planFile', 'target.plan'],
      ['priceFeed', 'target.priceFeed'],
      ['meter', 'meter'],
      ['aiInventoryFile', 'ai'],
      ['mqttUrl', 'signals.mqtt'],
      ['control', 'control'],
    ] as const
  ).filter(([k]) => c[k] !== undefined && c[k] !== 'none');
  if (unsupported.length) throw badInput(`not supported with shards yet: ${unsupported.map(([, n]) => n).join(', ')}`, 'shards');
  if ((c.gridAwards ?? []).length > 0) throw badInput('not supported with shards yet: grid.awards', 'shards');
  const siteFile = resolve(c.cwd, c.siteFile);
  const site = readSite(siteFile);
  const inventory = readInventory(resolve(c.cwd, c.inventoryFile));
  if (inventory.miners.length < c.shards) throw badInput(`${c.shards} shards for ${inventory.miners.length} miners`, 'shards');
  const dbDir = c.dbFile === ':memory:' ? null : `${resolve(c.cwd, c.dbFile)}.shards`;
  if (dbDir) mkdirSync(dbDir, { recursive: true });
  const log = c.log ?? (() => undefined);
  const coordinator = ShardCoordinator.start({
    siteYaml: readFileSync(siteFile, 'utf8'),
    siteFile,
    inventory,
    shards: c.shards,
    importLimitMW: site.interconnect.importLimitMW,
    aiMW: siteAiMW(site),
    otherLoadMW: c.otherLoadMW,
    marginMW: c.safetyMarginMW,
    clock: c.clock ?? systemClock,
    dbDir,
    shard: {
      tickMs: c.tickS * 1000,
      snapshotMaxAgeMs: c.tickS * 1000,
      concurrency: Math.max(1, Math.floor(c.concurrency / c.shards)),
      callTimeoutMs: c.callTimeoutMs,
      verifyWaitMs: Math.min(c.confirmTimeoutS * 1000, 10_000),
      withMetrics: true,
      decide: { restoreBatchSize: Math.max(1, Math.floor(c.restoreBatchSize / c.shards)), restorePacingMs: c.restorePacingS * 1000, minDwellMs: (c.minDwellS ?? 60) * 1000, confirmTimeoutMs: c.confirmTimeoutS * 1000 },
    },
    log,
  });
  let http: RunningServer;
  try {
    http = await serveHttp(shardRoutes(coordinator, { allowedHosts: c.allowedHosts ?? [] }), { ...parseHostPort(c.listen, '--listen', 8420), allowNonLoopback: false, what: 'the sharded agent API', log });
  } catch (err) {
    await coordinator.close();
    throw err;
  }
  log(`sharded agent for site '${site.name}': ${inventory.miners.length} miners over ${c.shards} shards, import limit ${site.interconnect.importLimitMW} MW, AI ${siteAiMW(site).toFixed(3)} MW; API ${http.url}`);
  return {
    coordinator,
    http,
    close: async () => {
      await http.close();
      await coordinator.close();
    },
  };
}
