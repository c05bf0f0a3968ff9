import { useEffect, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';

/** uPlot is loaded with the first chart, not with the console's first page. */
const loadUPlot = () =>
  Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]).then(([module]) => module.default);

export interface LagSample {
  /** Seconds since the epoch. */
  time: number;
  /** Lag per series label (e.g. "orders/0"). */
  lag: Record<string, number>;
}

const PALETTE = ['#2563eb', '#db2777', '#16a34a', '#ea580c', '#7c3aed', '#0891b2', '#ca8a04', '#dc2626'];

/** Lag per partition over the time the page has been open, drawn with uPlot. */
export const LagChart = ({ samples }: { samples: LagSample[] }) => {
  const host = useRef<HTMLElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [UPlot, setUPlot] = useState<typeof uPlot | null>(null);
  useEffect(() => {
    void loadUPlot().then((u) => setUPlot(() => u));
  }, []);
  const labels = [...new Set(samples.flatMap((s) => Object.keys(s.lag)))].sort();
  const shape = labels.join('|');

  // The plot is rebuilt only when its series change.
  useEffect(() => {
    if (!host.current || !UPlot) return;
    const dark = matchMedia('(prefers-color-scheme: dark)').matches;
    const axis = { stroke: dark ? '#cbd5e1' : '#334155', grid: { stroke: dark ? '#334155' : '#e2e8f0' } };
    plot.current = new UPlot(
      {
        width: Math.max(320, host.current.clientWidth),
        height: 220,
        series: [{}, ...labels.map((label, i) => ({ label, stroke: PALETTE[i % PALETTE.length], width: 2 }))],
        axes: [axis, { ...axis, label: 'lag (records)' }],
        scales: { x: { time: true } },
      },
      [[], ...labels.map(() => [])],
      host.current,
    );
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape, UPlot]);

  useEffect(() => {
    plot.current?.setData([samples.map((s) => s.time), ...labels.map((l) => samples.map((s) => s.lag[l] ?? null))]);
  });

  return <figure class="chart" ref={host} aria-label="Lag per partition over time" />;
};
