// Metric curves with uPlot. The server sends a down-sampled series (per bucket of steps the
// minimum, maximum and last point, so spikes survive); dragging to zoom asks it again for just the
// visible steps, with more points (every point of a range of up to 2,500 steps), and a double
// click goes back to the whole run.
import { html, useEffect, useRef, useState } from './lib.js';
import { color, fmtNum, fmtTime, num } from './lib.js';
import { api } from './api.js';

const POINTS = 1000; // per series and request: ~333 buckets of min, max and last (2 px each)
const ZOOMED_POINTS = 2500; // the most the API returns: a zoomed range of up to 2,500 steps whole
// Steps are whole numbers: their axis ticks only at whole increments.
const STEP_INCRS = [1, 2, 5].flatMap((m) => Array.from({ length: 10 }, (_, e) => m * 10 ** e)).sort((a, b) => a - b);

// [min, max] of the finite values (a loop: spreading a long array into Math.min can overflow).
export function extent(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

export function ema(values, alpha) {
  if (!alpha) return values;
  const out = new Array(values.length);
  let s = null;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || !Number.isFinite(v)) { out[i] = v; continue; }
    s = s === null ? v : alpha * s + (1 - alpha) * v;
    out[i] = s;
  }
  return out;
}

// uPlot's time-axis labels, as the tables write times: 24-hour ({HH}), no am/pm.
const fmtDate24 = (tpl) => uPlot.fmtDate(tpl.replace(/\{h\}/g, '{HH}').replace(/\{(aa|AA|a|A)\}/g, ''));

// The x-value of a point on the chosen axis: step, wall time (s) or seconds since its run's first point.
function xOf(points, xAxis) {
  if (xAxis === 'step') return (p) => Number(p.step || 0);
  if (xAxis === 'wall') return (p) => Number(p.timestamp) / 1000;
  const first = new Map();
  for (const p of points) {
    const t = Number(p.timestamp);
    if (!first.has(p.run_id) || t < first.get(p.run_id)) first.set(p.run_id, t);
  }
  return (p) => (Number(p.timestamp) - first.get(p.run_id)) / 1000;
}

// Points of several runs -> uPlot's aligned columns [x, y1, y2, ...].
function align(points, runIds, xAxis, smoothing, logScale) {
  const x = xOf(points, xAxis);
  const byRun = new Map(runIds.map((id) => [id, []]));
  for (const p of points) byRun.get(p.run_id)?.push(p);
  const tables = runIds.map((id) => {
    const ps = byRun.get(id);
    if (xAxis !== 'step') ps.sort((a, b) => x(a) - x(b));
    const ys = ps.map((p) => { const v = num(p.value); return Number.isFinite(v) && !(logScale && v <= 0) ? v : null; });
    return [ps.map(x), ema(ys, smoothing)];
  });
  if (tables.length === 1) return tables[0];
  return uPlot.join(tables.map(([xs, ys]) => dedupe(xs, ys)));
}

// uPlot.join needs strictly increasing x per table: keep the last point of equal x.
function dedupe(xs, ys) {
  const ox = [];
  const oy = [];
  for (let i = 0; i < xs.length; i++) {
    if (ox.length && ox[ox.length - 1] === xs[i]) oy[oy.length - 1] = ys[i];
    else { ox.push(xs[i]); oy.push(ys[i]); }
  }
  return [ox, oy];
}

// The steps of the points between x-values lo..hi (any x-axis).
function stepRange(points, xAxis, lo, hi) {
  if (xAxis === 'step') return [Math.floor(lo), Math.ceil(hi)];
  const x = xOf(points, xAxis);
  const steps = points.filter((p) => x(p) >= lo && x(p) <= hi).map((p) => Number(p.step || 0));
  return steps.length ? extent(steps) : null;
}

export function MetricChart({ runIds, runNames, metricKey, xAxis = 'step', logScale = false, smoothing = 0, height = 240 }) {
  const box = useRef(null);
  const plot = useRef(null);
  const resize = useRef(null);
  const [range, setRange] = useState(null); // [startStep, endStep] when zoomed
  const [points, setPoints] = useState(null);
  const shown = useRef(null); // the points on screen, for the zoom handler
  const [error, setError] = useState(null);
  const ids = runIds.join(',');

  useEffect(() => setRange(null), [ids, metricKey, xAxis]);

  useEffect(() => {
    let live = true;
    api.history(runIds, metricKey, range ? ZOOMED_POINTS : POINTS, range).then(
      (ps) => live && (setPoints(ps), setError(null)),
      (e) => live && setError(e),
    );
    return () => { live = false; };
  }, [ids, metricKey, range && range.join(':')]);

  useEffect(() => {
    if (!points || !box.current) return undefined;
    shown.current = points;
    const data = align(points, runIds, xAxis, smoothing, logScale);
    if (plot.current && plot.current._key === `${ids}|${xAxis}|${logScale}`) {
      plot.current.setData(data, !range);
      return undefined;
    }
    if (plot.current) plot.current.destroy();
    if (resize.current) resize.current.disconnect();
    const zoomTo = (u) => {
      const { min, max } = u.scales.x;
      if (min === null || max === null) return;
      const r = stepRange(shown.current, xAxis, min, max);
      if (r) setRange(r);
    };
    const opts = {
      width: Math.max(320, box.current.clientWidth),
      height,
      // x: points at one step or instant (a batch logged at once) around it, not years wide
      scales: { x: { time: xAxis === 'wall', range: (u, lo, hi) => (lo === hi ? [lo - 1, hi + 1] : [lo, hi]) }, y: logScale ? { distr: 3 } : {} },
      fmtDate: fmtDate24,
      axes: [
        {
          label: xAxis === 'step' ? 'step' : xAxis === 'relative' ? 'seconds since start' : '',
          ...(xAxis === 'step' ? { incrs: STEP_INCRS } : {}),
        },
        // as wide as its longest label (1.0000e-4 on a log scale)
        { values: (u, vals) => vals.map(fmtNum), size: (u, vals) => 16 + 7 * Math.max(4, ...(vals || []).map((v) => String(v).length)) },
      ],
      series: [
        { label: xAxis === 'step' ? 'step' : 'time', ...(xAxis === 'wall' ? { value: (u, v) => (v == null ? '--' : fmtTime(v * 1000)) } : {}) },
        ...runIds.map((id, i) => ({
          label: (runNames && runNames[i]) || id.slice(0, 8),
          stroke: color(i),
          width: 1.5,
          // a NaN or infinite value (null here) breaks the line; where a run has no point at
          // another run's x (undefined, from uPlot.join) the line goes on
          spanGaps: false,
          points: { show: (u) => u.data[0].length <= 60, size: 5 },
          value: (u, v) => fmtNum(v),
        })),
      ],
      cursor: {
        drag: { x: true, y: false, setScale: true },
        bind: {
          dblclick: () => () => { setRange(null); return null; },
        },
      },
      hooks: {
        setSelect: [(u) => { if (u.select.width > 2) setTimeout(() => zoomTo(u), 0); }],
      },
      legend: { live: true },
    };
    const u = new uPlot(opts, data, box.current);
    u._key = `${ids}|${xAxis}|${logScale}`;
    plot.current = u;
    resize.current = new ResizeObserver(() => u.setSize({ width: Math.max(320, box.current.clientWidth), height }));
    resize.current.observe(box.current);
    return undefined;
  }, [points, smoothing, logScale, xAxis]);

  useEffect(() => () => {
    if (resize.current) resize.current.disconnect();
    if (plot.current) plot.current.destroy();
    plot.current = null;
  }, []);

  const n = points ? points.length : 0;
  const top = points && points.length ? extent(points.map((p) => num(p.value)))[1] : '';
  const offLog = logScale && points ? points.filter((p) => num(p.value) <= 0).length : 0;
  const nonFinite = points ? points.filter((p) => !Number.isFinite(num(p.value))).length : 0;
  return html`<figure class="chart" data-metric=${metricKey} data-points=${n} data-max=${top}
    data-zoomed=${range ? range.join('-') : ''}>
    <figcaption>
      <b>${metricKey}</b>
      ${range ? html` <span class="muted">steps ${range[0]}–${range[1]}</span>
        <button class="link" onClick=${() => setRange(null)}>Reset zoom</button>` : html` <span class="muted hint">drag to zoom</span>`}
    </figcaption>
    ${error ? html`<div class="error">${error.message}</div>` : ''}
    ${!points && !error ? html`<p class="loading">Loading…</p>` : ''}
    ${n && nonFinite === n ? html`<p class="muted nothing">All ${n} values shown are NaN or infinite: nothing to draw.</p>` : ''}
    ${nonFinite && nonFinite < n ? html`<p class="muted nonfinite-note">${nonFinite.toLocaleString()} of the ${n.toLocaleString()} points shown are NaN or infinite: the line breaks there.</p>` : ''}
    ${offLog ? html`<p class="muted log-note">${offLog.toLocaleString()} of the ${n.toLocaleString()} points shown are zero or negative: a log scale cannot draw them.</p>` : ''}
    <div class="plot" ref=${box}></div>
  </figure>`;
}

export function ChartControls({ xAxis, setXAxis, logScale, setLogScale, smoothing, setSmoothing }) {
  // the slider's value as it is dragged; the charts follow once the drag pauses
  const [dragged, setDragged] = useState(smoothing);
  useEffect(() => setDragged(smoothing), [smoothing]);
  return html`<div class="chart-controls">
    <label>X-axis <select aria-label="X-axis" value=${xAxis} onChange=${(e) => setXAxis(e.target.value)}>
      <option value="step">Step</option><option value="wall">Wall time</option><option value="relative">Relative time</option>
    </select></label>
    <label><input type="checkbox" checked=${logScale} onChange=${(e) => setLogScale(e.target.checked)} /> Log scale</label>
    <label>Smoothing <input type="range" min="0" max="0.99" step="0.01" value=${dragged}
      aria-label="Smoothing" onInput=${(e) => { setDragged(Number(e.target.value)); setSmoothing(Number(e.target.value)); }} /> <span class="muted">${dragged.toFixed(2)}</span></label>
  </div>`;
}
