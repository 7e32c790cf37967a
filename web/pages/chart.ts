/**
 * A chart.js canvas as a Preact component for the extra pages: the config is rebuilt when `config`
 * changes; clicking a point or bar calls `onPick(datasetIndex, index)` (pages open the figure's source).
 */
import { h } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartConfiguration } from 'chart.js';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip);

export const PALETTE = ['#f57c00', '#1e88e5', '#5e35b1', '#2e7d32', '#c62828', '#00897b', '#6d4c41', '#ad1457', '#546e7a', '#fbc02d', '#3949ab', '#7cb342', '#8e24aa', '#00acc1'];

export function ChartBox(p: { config: ChartConfiguration; label: string; height?: number; onPick?: (datasetIndex: number, index: number) => void; testid?: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const pick = p.onPick;
    const chart = new Chart(canvas.current, {
      ...p.config,
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        ...p.config.options,
        ...(pick
          ? {
              onClick: (_e: unknown, els: { datasetIndex: number; index: number }[]) => {
                const el = els[0];
                if (el) pick(el.datasetIndex, el.index);
              },
            }
          : {}),
      },
    });
    return () => chart.destroy();
  }, [p.config]);
  return h('div', { style: { height: `${p.height ?? 300}px` }, 'data-testid': p.testid }, h('canvas', { ref: canvas, 'aria-label': p.label, role: 'img' }));
}

/** Opens a source in a new tab without giving it this window (no opener, no referrer). */
export function openSource(url: string | undefined): void {
  if (url && /^https?:\/\//.test(url)) window.open(url, '_blank', 'noopener,noreferrer');
}

/** A link to a figure's source (new tab, no opener, no referrer). */
export function SourceLink(p: { url: string; label?: string }) {
  let host = p.url;
  try {
    host = new URL(p.url).host;
  } catch {
    // shown as given
  }
  return h('a', { href: p.url, target: '_blank', rel: 'noopener noreferrer', title: p.url }, p.label ?? host);
}
