// The model registry: registered models, then one model's versions with lineage, its aliases,
// the alias audit log, and every promotion decision with its evidence.
import { html } from '../lib.js';
import { flat, fmtAgo, fmtNum, fmtTime, quoteKey, quoteValue } from '../lib.js';
import { api, artifactUrl, allRuns } from '../api.js';
import { ErrorBox, KeyValues, Loading, NotFound, isMissing, useLoad } from './common.js';

const modelUrl = (name) => `/models/${encodeURIComponent(name)}`;
const tagsOf = (x) => Object.fromEntries((x.tags || []).map((t) => [t.key, t.value]));

export function Models() {
  const { data, error, loading } = useLoad(() => api.models(), []);
  return html`<div class="page">
    <h1>Registered models</h1>
    <${ErrorBox} error=${error} />
    ${loading && !data ? html`<${Loading} what="models" />` : (data || []).length === 0 ? html`<p class="muted">No registered models yet: <code>trainlab.register_model(...)</code> or <code>trainlab promote</code> create them.</p>` : html`
      <table class="grid" id="models"><thead><tr><th>Name</th><th>Latest version</th><th>Aliases</th><th>Updated</th><th>Description</th></tr></thead>
        <tbody>${data.map((m) => {
          const latest = Math.max(0, ...(m.latest_versions || []).map((v) => Number(v.version)));
          return html`<tr>
            <td><a href=${modelUrl(m.name)}>${m.name}</a></td>
            <td class="num">${latest || ''}</td>
            <td>${(m.aliases || []).map((a) => html`<span class="badge">@${a.alias} → v${a.version}</span> `)}</td>
            <td title=${fmtTime(m.last_updated_timestamp)}>${fmtAgo(m.last_updated_timestamp)}</td>
            <td>${m.description || ''}</td></tr>`;
        })}</tbody></table>`}
  </div>`;
}

async function loadModel(name) {
  const [model, versions, history, experiments] = await Promise.all([
    api.model(name),
    api.versions(`name = ${quoteValue(name)}`),
    api.aliasHistory(name),
    api.experiments(),
  ]);
  const ids = experiments.map((e) => e.experiment.experiment_id);
  const gates = [];
  for (let i = 0; i < ids.length; i += 100) {
    gates.push(...await allRuns(ids.slice(i, i + 100), `tags.${quoteKey('trainlab.gate.model')} = ${quoteValue(name)}`, 1000));
  }
  const decisions = await Promise.all(gates.map(flat).sort((a, b) => b.start - a.start).map(async (run) => {
    const r = await fetch(artifactUrl(run.id, 'gate/decision.json'));
    return { run, evidence: r.ok ? await r.json() : null };
  }));
  versions.sort((a, b) => Number(b.version) - Number(a.version));
  return { model, versions, events: (history.events || []).slice().reverse(), decisions };
}

export function ModelPage({ name }) {
  const { data, error } = useLoad(() => loadModel(name), [name]);
  if (isMissing(error)) {
    return html`<${NotFound} what="registered model" name=${name} error=${error} back="/models" backLabel="Registered models" />`;
  }
  if (error) return html`<div class="page"><${ErrorBox} error=${error} /></div>`;
  if (!data) return html`<div class="page"><${Loading} what="model" /></div>`;
  const { model, versions, events, decisions } = data;
  return html`<div class="page wide">
    <div class="crumbs"><a href="/models">Models</a> /</div>
    <h1>${model.name}</h1>
    ${model.description ? html`<p>${model.description}</p>` : ''}
    <section><h2>Aliases</h2>
      ${(model.aliases || []).length ? html`<p id="aliases">${model.aliases.map((a) => html`<span class="badge big">@${a.alias} → version ${a.version}</span> `)}</p>` : html`<p class="muted">No aliases.</p>`}
    </section>
    <section><h2>Versions</h2>
      <table class="grid" id="versions"><thead><tr><th class="num">Version</th><th>Aliases</th><th>Gate</th><th>Source run</th><th>Status</th><th>Created</th></tr></thead>
        <tbody>${versions.map((v) => {
          const t = tagsOf(v);
          return html`<tr>
            <td class="num">${v.version}</td>
            <td>${(v.aliases || []).map((a) => html`<span class="badge">@${a}</span> `)}</td>
            <td>${t['trainlab.gate.verdict'] ? html`<span class=${`verdict ${t['trainlab.gate.verdict'].toLowerCase()}`}>${t['trainlab.gate.verdict']}</span>` : ''}</td>
            <td>${v.run_id ? html`<a href=${`/runs/${v.run_id}`}>${v.run_id.slice(0, 12)}</a> · <a href=${`/runs/${v.run_id}?tab=lineage`}>lineage</a>` : html`<span class="muted">${v.source}</span>`}</td>
            <td>${v.status}</td>
            <td>${fmtTime(v.creation_timestamp)}</td></tr>`;
        })}</tbody></table>
    </section>
    <section><h2>Promotion decisions</h2>
      ${decisions.length ? decisions.map((d) => html`<${Decision} ...${d} />`) : html`<p class="muted">No version has been through the promotion gate.</p>`}
    </section>
    <section><h2>Alias audit log</h2>
      ${events.length ? html`<table class="grid" id="alias-log"><thead><tr><th>When</th><th>Alias</th><th>From</th><th>To</th><th>By</th><th>Reason</th></tr></thead>
        <tbody>${events.map((e) => html`<tr><td>${fmtTime(e.timestamp)}</td><td>${e.alias ? `@${e.alias}` : '(every alias)'}</td>
          <td>${e.from_version ? `v${e.from_version}` : html`<span class="muted">—</span>`}</td>
          <td>${e.to_version ? `v${e.to_version}` : html`<span class="muted">removed</span>`}</td>
          <td>${e.user || ''}</td><td class="wrap">${e.reason || ''}</td></tr>`)}</tbody></table>` : html`<p class="muted">No alias has been set.</p>`}
    </section>
  </div>`;
}

// The interval's level, as the policy set it ("80%", "97.5%").
const level = (policy) => `${Number((((policy && policy.confidence) || 0.95) * 100).toPrecision(6))}%`;

function Decision({ run, evidence }) {
  const e = evidence;
  const verdict = run.tags['trainlab.gate.verdict'] || (e && (e.passed ? 'PASS' : 'FAIL'));
  if (!e) {
    return html`<div class="decision"><h3><span class=${`verdict ${String(verdict).toLowerCase()}`}>${verdict}</span> ${run.name}</h3>
      <p class="muted">The evidence file gate/decision.json could not be read. <a href=${`/runs/${run.id}`}>Open the gate run</a>.</p></div>`;
  }
  const names = Object.keys(e.candidate_metrics || {});
  const ci = e.intervals || {};
  return html`<div class="decision" data-run=${run.id}>
    <h3><span class=${`verdict ${verdict.toLowerCase()}`}>${verdict}</span>
      version ${e.candidate} → @${e.alias} ${e.champion ? html`against version ${e.champion}, its holder` : html`(held by no version yet)`}
      <span class="muted"> · ${fmtTime(run.start)} · <a href=${`/runs/${run.id}`}>gate run</a></span></h3>
    <table class="grid evidence"><thead><tr><th>Metric</th><th class="num">Candidate v${e.candidate}</th>
      <th class="num">${e.champion ? `@${e.alias} v${e.champion}` : `@${e.alias}`}</th>
      <th class="num">Improvement</th><th class="num">${level(e.policy)} CI</th></tr></thead>
      <tbody>${names.map((m) => html`<tr><th>${m}</th>
        <td class="num">${fmtNum(e.candidate_metrics[m])}</td>
        <td class="num">${e.champion_metrics ? fmtNum(e.champion_metrics[m]) : '—'}</td>
        <td class="num">${ci[m] ? fmtNum(ci[m].point) : '—'}</td>
        <td class="num">${ci[m] ? `[${fmtNum(ci[m].low)}, ${fmtNum(ci[m].high)}]` : '—'}</td></tr>`)}</tbody></table>
    <div class="columns two">
      <div><h4>Checks</h4><ul class="checks">${(e.checks || []).map((c) => html`<li class=${c.skipped ? 'skipped' : c.passed ? 'pass' : 'fail'}>
        <b>${c.skipped ? '–' : c.passed ? '✔' : '✘'} ${c.name}</b> ${c.detail}</li>`)}</ul>
        <p class="muted">${e.rows} held-out rows${e.data && e.data.test_digest ? html`, data <code>${e.data.test_digest}</code>` : ''}</p></div>
      <div><h4>Policy</h4><${KeyValues} items=${Object.entries(e.policy || {}).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)])} /></div>
    </div>
  </div>`;
}
