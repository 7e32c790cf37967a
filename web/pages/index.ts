/**
 * The pages beyond the site / audit / access pages of main.ts, one hash route each: main.ts adds
 * each to the navigation and renders it when its hash is current.
 */
import type { FunctionComponent } from 'preact';
import type { Me } from '../api.js';
import { AnalystPage } from './analyst.js';
import { DealsPage } from './deals.js';
import { FleetPage } from './fleet.js';
import { StrategyPage } from './strategy.js';

export interface ExtraPage {
  /** '#/fleet' */
  hash: string;
  label: string;
  component: FunctionComponent<{ me: Me }>;
}

export const EXTRA_PAGES: readonly ExtraPage[] = [
  { hash: '#/fleet', label: 'Fleet', component: FleetPage },
  { hash: '#/analyst', label: 'Analyst', component: AnalystPage },
  { hash: '#/strategy', label: 'Strategy', component: StrategyPage },
  { hash: '#/deals', label: 'Deals', component: DealsPage },
];

/** The extra page for a location hash ('#/fleet' and '#/fleet/…'), if any. */
export function extraPageOf(hash: string): ExtraPage | undefined {
  return EXTRA_PAGES.find((p) => hash === p.hash || hash.startsWith(`${p.hash}/`));
}
