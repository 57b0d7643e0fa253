// A tuning study (its parent run and the trials' child runs): trial states, optimization history,
// parallel coordinates of the parameters, parameter importances, and the pruned trials' curves.
import { html, useMemo } from '../lib.js';
import { flat, fmtNum, num, quoteKey, quoteValue, Status } from '../lib.js';
import { api, allRuns } from '../api.js';
import { MetricChart } from '../charts.js';
import { Bars, ParallelCoords, Scatter } from '../plots.js';
import { ErrorBox, ExperimentCrumb, Loading, NotFound, isMissing, useLoad } from './common.js';

const STATES = ['COMPLETE', 'PRUNED', 'FAIL', 'RUNNING'];

export function Study({ runId }) {
  const loaded = useLoad(async () => {
    const parent = flat(await api.run(runId));
    const trials = (await allRuns([parent.experimentId], `tags.${quoteKey('mlflow.parentRunId')} = ${quoteValue(runId)}`, 10000)).map(flat);
    return { parent, trials };
  }, [runId]);
  if (isMissing(loaded.error)) {
    return html`<${NotFound} what="study" name=${runId} error=${loaded.error} back="/" backLabel="Experiments" />`;
  }
  if (loaded.error) return html`<div class="page"><${ErrorBox} error=${loaded.error} /></div>`;
  if (!loaded.data) return html`<div class="page"><${Loading} what="study" /></div>`;
  const { parent } = loaded.data;
  if (parent.tags['trainlab.study.role'] !== 'parent') {
    return html`<div class="page not-found">
      <div class="crumbs"><a href="/">Experiments</a> / <${ExperimentCrumb} id=${parent.experimentId} /> /</div>
      <h1>Not a tuning study</h1>
      <p role="alert">Run <a href=${`/runs/${parent.id}`}>${parent.name}</a> is not the run of a tuning study (<code>trainlab tune</code> makes one).</p>
    </div>`;
  }
  return html`<${StudyView} ...${loaded.data} />`;
}

// A trial's value of a search-space parameter: pipelines log it under its dotted config key.
function paramOf(trial, name) {
  if (name in trial.params) return trial.params[name];
  const key = Object.keys(trial.params).find((k) => k.endsWith(`.${name}`));
  return key === undefined ? undefined : trial.params[key];
}

function StudyView({ parent, trials }) {
  const metric = (parent.params['tune.metric'] || '').split(',')[0];
  const direction = (parent.params['tune.direction'] || 'minimize').split(',')[0];
  const space = Object.keys(parent.params).filter((k) => k.startsWith('tune.space.')).map((k) => k.slice(11)).sort();
  const number = (t) => Number(t.tags['trainlab.trial.number']);
  const sorted = useMemo(() => [...trials].sort((a, b) => number(a) - number(b)), [trials]);
  const state = (t) => t.tags['trainlab.trial.state'] || (t.status === 'RUNNING' ? 'RUNNING' : t.status);
  const counts = {};
  for (const t of sorted) counts[state(t)] = (counts[state(t)] || 0) + 1;
  const complete = sorted.filter((t) => state(t) === 'COMPLETE' && Number.isFinite(t.metrics[metric]));
  const better = (a, b) => (direction === 'maximize' ? a > b : a < b);
  let best = null;
  const bestLine = [];
  for (const t of complete) {
    const v = t.metrics[metric];
    if (best === null || better(v, best)) best = v;
    bestLine.push([number(t), best]);
  }
  const bestRun = parent.tags['trainlab.best_run_id'];
  const importances = Object.keys(parent.metrics).filter((k) => k.startsWith('importance/'))
    .map((k) => [k.slice(11), num(parent.metrics[k])]).sort((a, b) => b[1] - a[1]);
  const pruned = sorted.filter((t) => state(t) === 'PRUNED');
  const curveKey = [...new Set(pruned.flatMap((t) => Object.keys(t.metrics)))].find((k) => k.startsWith('pruner/'));
  const dims = [...space, metric];

  return html`<div class="page wide">
    <div class="crumbs"><a href="/">Experiments</a> / <${ExperimentCrumb} id=${parent.experimentId} /> / <a href=${`/runs/${parent.id}`}>study run</a> /</div>
    <div class="title-row"><h1>${parent.tags['trainlab.study'] || parent.name}</h1>
      <${Status} run=${parent} /></div>
    <p class="meta">
      <span>objective <b>${direction} ${metric}</b></span>
      <span>sampler ${parent.params['tune.sampler'] || '?'}</span>
      <span>pruner ${parent.params['tune.pruner'] || 'none'}</span>
      ${best !== null ? html`<span>best <b class="num">${fmtNum(best)}</b> (trial ${parent.tags['trainlab.best_trial']}${bestRun ? html`, <a href=${`/runs/${bestRun}`}>run</a>` : ''})</span>` : ''}
    </p>
    <div class="states" id="trial-states">
      ${STATES.concat(Object.keys(counts).filter((s) => !STATES.includes(s))).map((s) => html`<div class=${`state-card ${s.toLowerCase()}`}><b>${counts[s] || 0}</b> ${s.toLowerCase()}</div>`)}
    </div>
    <div class="columns two">
      <section><h2>Optimization history</h2>
        <${Scatter} points=${complete.map((t) => ({ x: number(t), y: t.metrics[metric], label: `trial ${number(t)}`, highlight: t.id === bestRun }))}
          xLabel="trial" yLabel=${metric} line=${bestLine} width=${520} height=${300} />
      </section>
      <section><h2>Parameter importances</h2>
        ${importances.length ? html`<${Bars} items=${importances} />` : html`<p class="muted">Importances need at least two complete trials.</p>`}
      </section>
    </div>
    <section><h2>Parallel coordinates</h2>
      <${ParallelCoords} rows=${complete.map((t) => ({ id: t.id, label: `trial ${number(t)}`, values: { ...Object.fromEntries(space.map((s) => [s, paramOf(t, s)])), [metric]: t.metrics[metric] } }))}
        dims=${dims} colorBy=${metric} />
    </section>
    ${pruned.length ? html`<section><h2>Pruned trials' curves <span class="muted">(${curveKey || 'no intermediate values'})</span></h2>
      ${curveKey ? html`<p class="muted">The values the pruner compared, in the study's direction (${direction}): a
        curve that improves the other way (a loss, when the study maximizes) is shown negated.</p>` : ''}
      ${curveKey ? html`<${MetricChart} runIds=${pruned.slice(0, 100).map((t) => t.id)} runNames=${pruned.slice(0, 100).map((t) => `trial ${number(t)}`)} metricKey=${curveKey} height=${280} />` : ''}
    </section>` : ''}
    <section><h2>Trials</h2>
      <div class="table-wrap"><table class="grid" id="trials">
        <thead><tr><th class="num">#</th><th>State</th><th class="num">${metric}</th>${space.map((s) => html`<th>${s}</th>`)}<th>Run</th></tr></thead>
        <tbody>${sorted.map((t) => html`<tr class=${t.id === bestRun ? 'best' : ''}>
          <td class="num">${number(t)}</td><td><span class=${`state ${state(t).toLowerCase()}`}>${state(t)}</span></td>
          <td class="num">${fmtNum(t.metrics[metric])}</td>${space.map((s) => html`<td>${fmtNum(paramOf(t, s))}</td>`)}
          <td><a href=${`/runs/${t.id}`}>${t.name}</a></td></tr>`)}</tbody>
      </table></div>
    </section>
  </div>`;
}
