// A run: overview (params, tags, latest metrics), curves of every metric, system metrics, the
// artifacts with previews, and lineage (code, data, environment, parent/children, models).
import { html, useState } from '../lib.js';
import { flat, fmtDuration, fmtNum, fmtTime, Status } from '../lib.js';
import { api } from '../api.js';
import { ChartControls, MetricChart } from '../charts.js';
import { Artifacts } from './artifacts.js';
import { Lineage } from './lineage.js';
import { ErrorBox, ExperimentCrumb, KeyValues, Loading, NotFound, Tabs, getQuery, isMissing, setQuery, useChartSettings, useLoad } from './common.js';

const TABS = [['overview', 'Overview'], ['metrics', 'Metrics'], ['system', 'System'], ['artifacts', 'Artifacts'], ['lineage', 'Lineage']];
const isSystem = (k) => k.startsWith('system/');

export function RunPage({ runId }) {
  const loaded = useLoad(() => api.run(runId).then(flat), [runId]);
  const tab = getQuery().get('tab') || 'overview';
  if (isMissing(loaded.error)) {
    return html`<${NotFound} what="run" name=${runId} error=${loaded.error} back="/" backLabel="Experiments" />`;
  }
  if (loaded.error) return html`<div class="page"><${ErrorBox} error=${loaded.error} /></div>`;
  const run = loaded.data;
  if (!run) return html`<div class="page"><${Loading} what="run" /></div>`;
  const parent = run.tags['mlflow.parentRunId'];
  return html`<div class="page wide">
    <div class="crumbs"><a href="/">Experiments</a> / <${ExperimentCrumb} id=${run.experimentId} />
      ${parent ? html` / <a href=${`/runs/${parent}`}>parent run</a>` : ''} /</div>
    <div class="title-row">
      <h1>${run.name}</h1>
      <${Status} run=${run} />
      ${run.deleted ? html`<span class="status bad">deleted</span>` : ''}
      ${run.tags['trainlab.study.role'] === 'parent' ? html`<a class="badge" href=${`/studies/${run.id}`}>open study view</a>` : ''}
    </div>
    <p class="meta muted">
      <span>id <code>${run.id}</code></span>
      <span>started ${fmtTime(run.start)}</span>
      <span>duration ${fmtDuration(run.start, run.end)}</span>
      ${run.user ? html`<span>by ${run.user}</span>` : ''}
    </p>
    ${run.deleted ? html`<p class="error" role="status">This run is deleted: searches and the runs table
      leave it out. Restore it with MlflowClient().restore_run("${run.id}").</p>` : ''}
    ${run.tags['mlflow.note.content'] ? html`<p class="description">${run.tags['mlflow.note.content']}</p>` : ''}
    <${Tabs} tabs=${TABS} current=${tab} onSelect=${(t) => setQuery({ tab: t === 'overview' ? '' : t }, true)} />
    ${tab === 'overview' ? html`<${Overview} run=${run} />` : ''}
    ${tab === 'metrics' ? html`<${Curves} run=${run} keys=${Object.keys(run.metrics).filter((k) => !isSystem(k)).sort()} />` : ''}
    ${tab === 'system' ? html`<${Curves} run=${run} keys=${Object.keys(run.metrics).filter(isSystem).sort()} x="relative" prefix="sys_" empty="No system metrics were recorded for this run." />` : ''}
    ${tab === 'artifacts' ? html`<${Artifacts} run=${run} />` : ''}
    ${tab === 'lineage' ? html`<${Lineage} run=${run} />` : ''}
  </div>`;
}

function Overview({ run }) {
  const metrics = Object.keys(run.metrics).filter((k) => !isSystem(k)).sort();
  const params = Object.keys(run.params).sort();
  const tags = Object.keys(run.tags).filter((k) => !k.startsWith('mlflow.')).sort();
  return html`<div class="columns">
    <section><h2>Metrics <span class="muted">(latest)</span></h2>
      <${KeyValues} items=${metrics.map((k) => [k, run.metrics[k]])} empty="No metrics."
        fmt=${(v, k) => html`<span class="num">${fmtNum(v)}</span> <span class="muted">step ${run.metricSteps[k]}</span>`} /></section>
    <section><h2>Parameters</h2><${KeyValues} items=${params.map((k) => [k, run.params[k]])} empty="No parameters." /></section>
    <section><h2>Tags</h2><${KeyValues} items=${tags.map((k) => [k, run.tags[k]])} empty="No tags." /></section>
  </div>`;
}

// Metrics with a history get a chart; those logged at step 0 only a table, unless asked.
// System metrics are sampled in time: they open on seconds since the run started.
function Curves({ run, keys, empty, x = 'step', prefix = '' }) {
  const settings = useChartSettings(x, prefix);
  const { xAxis, logScale, smoothing } = settings;
  const [all, setAll] = useState(false);
  if (!keys.length) return html`<p class="muted">${empty || 'No metrics were logged.'}</p>`;
  const charted = all ? keys : keys.filter((k) => (run.metricSteps[k] ?? 0) !== 0);
  const single = keys.filter((k) => !charted.includes(k));
  return html`<div>
    ${charted.length ? html`<${ChartControls} ...${settings} />` : ''}
    <div class="charts">
      ${charted.map((k) => html`<${MetricChart} key=${k} runIds=${[run.id]} runNames=${[run.name]} metricKey=${k}
        xAxis=${xAxis} logScale=${logScale} smoothing=${smoothing} />`)}
    </div>
    ${single.length ? html`<h2>Logged at step 0 <button class="link" onClick=${() => setAll(true)}>chart them too</button></h2>
      <${KeyValues} items=${single.map((k) => [k, fmtNum(run.metrics[k])])} />` : ''}
  </div>`;
}
