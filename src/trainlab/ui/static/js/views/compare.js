// Compare runs: their curves overlaid, a params/metrics table with the differences marked,
// parallel coordinates, and a scatter of any param or metric against any other.
import { html, useMemo, useState } from '../lib.js';
import { color, flat, fmtNum, splitRank } from '../lib.js';
import { api } from '../api.js';
import { ChartControls, MetricChart } from '../charts.js';
import { ParallelCoords, Scatter } from '../plots.js';
import { ExperimentCrumb, Loading, getQuery, setQuery, useChartSettings, useLoad } from './common.js';

const numeric = (v) => v !== undefined && v !== '' && Number.isFinite(Number(v));

export function Compare() {
  const q = getQuery();
  const ids = [...new Set((q.get('runs') || '').split(',').filter(Boolean))]; // each run once
  // Each run on its own: one that is gone (a stale link) leaves the others compared.
  const loaded = useLoad(() => Promise.allSettled(ids.map((id) => api.run(id).then(flat))), [ids.join(',')]);
  if (!ids.length) return html`<div class="page"><h1>Compare runs</h1><p class="muted">Select runs in an experiment's table and press Compare.</p></div>`;
  if (!loaded.data) return html`<div class="page"><${Loading} what="runs" /></div>`;
  const runs = loaded.data.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  const failed = loaded.data.map((r, i) => [ids[i], r]).filter(([, r]) => r.status === 'rejected');
  const problems = failed.length ? html`<div class="error" role="alert">${failed.map(([id, r]) => html`<div>Run <code>${id}</code> is left out: ${r.reason.message || String(r.reason)}</div>`)}</div>` : '';
  if (!runs.length) return html`<div class="page"><div class="crumbs"><a href="/">Experiments</a> /</div><h1>Compare runs</h1>${problems}</div>`;
  return html`<${CompareRuns} runs=${runs} problems=${problems} />`;
}

// The metric the curves open on: one most of the runs have, a curve (logged at several steps)
// before a single value, a held-out score before training's.
function firstMetric(runs, metrics) {
  const have = (k) => runs.filter((r) => k in r.metrics).length;
  const stepped = (k) => runs.some((r) => (r.metricSteps[k] ?? 0) !== 0);
  const rank = (k) => [-have(k), !stepped(k), splitRank(k)].map(Number);
  return [...metrics].sort((a, b) => {
    const [ra, rb] = [rank(a), rank(b)];
    const i = ra.findIndex((v, j) => v !== rb[j]);
    return i >= 0 ? ra[i] - rb[i] : a < b ? -1 : 1;
  })[0];
}

function CompareRuns({ runs, problems }) {
  const q = getQuery();
  const params = useMemo(() => [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort(), [runs]);
  const metrics = useMemo(() => [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].filter((k) => !k.startsWith('system/')).sort(), [runs]);
  const [onlyDiff, setOnlyDiff] = useState(false);
  const metric = q.get('metric') || firstMetric(runs, metrics);
  const settings = useChartSettings();
  const { xAxis, logScale, smoothing } = settings;
  const dims = [...params.map((k) => `params.${k}`), ...metrics.map((k) => `metrics.${k}`)];
  const value = (r, d) => (d?.startsWith('params.') ? r.params[d.slice(7)] : d?.startsWith('metrics.') ? r.metrics[d.slice(8)] : undefined);
  const varying = dims.filter((d) => new Set(runs.map((r) => String(value(r, d)))).size > 1);
  const axesChosen = q.get('axes') !== null ? q.get('axes').split(',').filter(Boolean) : [...varying.filter((d) => d.startsWith('params.')).slice(0, 6), ...(metric ? [`metrics.${metric}`] : [])];
  const coverage = (d) => runs.filter((r) => numeric(value(r, d))).length;
  const numericParams = varying.filter((d) => d.startsWith('params.') && coverage(d) > 1).sort((a, b) => coverage(b) - coverage(a));
  const sx = q.get('x') || numericParams[0] || dims[0];
  const sy = q.get('y') || (metric ? `metrics.${metric}` : dims[1]);
  const experiment = runs[0].experimentId;

  const rows = [...params.map((k) => ['param', k, runs.map((r) => r.params[k])]), ...metrics.map((k) => ['metric', k, runs.map((r) => r.metrics[k])])];
  const shown = rows.filter(([, , vs]) => !onlyDiff || new Set(vs.map(String)).size > 1);

  return html`<div class="page wide">
    <div class="crumbs"><a href="/">Experiments</a> / <${ExperimentCrumb} id=${experiment} /> /</div>
    <h1>Compare ${runs.length} ${runs.length === 1 ? 'run' : 'runs'}</h1>
    ${problems}
    <div class="legend-row">${runs.map((r, i) => html`<span class="swatch" style=${`--c:${color(i)}`}><a href=${`/runs/${r.id}`}>${r.name}</a></span>`)}</div>

    <section><h2>Curves</h2>
      <div class="chart-controls">
        <label>Metric <select aria-label="Metric" value=${metric} onChange=${(e) => setQuery({ metric: e.target.value })}>
          ${metrics.map((k) => html`<option value=${k}>${k}</option>`)}</select></label>
      </div>
      <${ChartControls} ...${settings} />
      ${metric ? html`<${MetricChart} key=${metric} runIds=${runs.map((r) => r.id)} runNames=${runs.map((r) => r.name)}
        metricKey=${metric} xAxis=${xAxis} logScale=${logScale} smoothing=${smoothing} height=${300} />` : html`<p class="muted">These runs have no metrics.</p>`}
    </section>

    <section><h2>Parameters and metrics</h2>
      <label class="toggle"><input type="checkbox" checked=${onlyDiff} onChange=${(e) => setOnlyDiff(e.target.checked)} /> Only differences</label>
      <div class="table-wrap"><table class="grid diff" id="diff">
        <thead><tr><th></th><th>Key</th>${runs.map((r, i) => html`<th><span class="swatch" style=${`--c:${color(i)}`}>${r.name}</span></th>`)}</tr></thead>
        <tbody>${shown.map(([kind, k, vs]) => {
          const differs = new Set(vs.map(String)).size > 1;
          return html`<tr class=${differs ? 'differs' : ''} data-key=${`${kind}:${k}`}>
            <td class="muted">${kind}</td><th>${k}</th>
            ${vs.map((v) => html`<td class=${kind === 'metric' ? 'num' : ''}>${v === undefined ? html`<span class="muted">—</span>` : kind === 'metric' ? fmtNum(v) : v}</td>`)}
          </tr>`;
        })}</tbody>
      </table></div>
    </section>

    <section><h2>Parallel coordinates</h2>
      <details class="axis-picker"><summary>Axes (${axesChosen.length})</summary>
        ${dims.map((d) => html`<label class="opt"><input type="checkbox" checked=${axesChosen.includes(d)}
          onChange=${(e) => setQuery({ axes: (e.target.checked ? [...axesChosen, d] : axesChosen.filter((x) => x !== d)).join(',') })} /> ${d}</label>`)}
      </details>
      <${ParallelCoords} rows=${runs.map((r, i) => ({ id: r.id, label: r.name, color: color(i), values: Object.fromEntries(axesChosen.map((d) => [d, value(r, d)])) }))}
        dims=${axesChosen} />
    </section>

    <section><h2>Scatter</h2>
      <div class="chart-controls">
        <label>X <select aria-label="Scatter x" value=${sx} onChange=${(e) => setQuery({ x: e.target.value })}>${dims.map((d) => html`<option value=${d}>${d}</option>`)}</select></label>
        <label>Y <select aria-label="Scatter y" value=${sy} onChange=${(e) => setQuery({ y: e.target.value })}>${dims.map((d) => html`<option value=${d}>${d}</option>`)}</select></label>
      </div>
      ${sx && sy ? html`<${Scatter} points=${runs.map((r, i) => ({ x: value(r, sx), y: value(r, sy), label: r.name, color: color(i) }))} xLabel=${sx} yLabel=${sy} />`
        : html`<p class="muted">A scatter needs two params or metrics; these runs have ${dims.length}.</p>`}
    </section>
  </div>`;
}
