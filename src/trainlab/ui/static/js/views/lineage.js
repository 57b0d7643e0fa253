// Where a run came from and what came of it: code (git commit, branch, uncommitted diff), data
// (fingerprints of each split, dataset inputs), environment, parent and children, and the model
// versions registered from it.
import { html, useEffect, useState } from '../lib.js';
import { flat, quoteKey, quoteValue } from '../lib.js';
import { api, artifactUrl, allRuns } from '../api.js';
import { KeyValues, Loading, useLoad } from './common.js';

// A text artifact, when `wanted` (known to exist: asking for a missing file is an error).
function useText(url, wanted) {
  const [text, setText] = useState(null);
  useEffect(() => {
    let live = true;
    if (!wanted) return undefined;
    fetch(url).then((r) => (r.ok ? r.text() : null)).then((t) => live && setText(t), () => live && setText(null));
    return () => { live = false; };
  }, [url, wanted]);
  return text;
}

export function Lineage({ run }) {
  const t = run.tags;
  const code = [
    ['commit', t['mlflow.source.git.commit']],
    ['branch', t['mlflow.source.git.branch']],
    ['repository', t['mlflow.source.git.repoURL']],
    ['uncommitted changes', t['trainlab.git.dirty']],
    ['diff sha256', t['trainlab.git.diff_sha256']],
    ['entry point', t['mlflow.source.name']],
  ].filter(([, v]) => v);
  const splits = [...new Set(Object.keys(t).filter((k) => k.startsWith('trainlab.data.') && k.endsWith('.digest')).map((k) => k.split('.')[2]))];
  const envFiles = useLoad(() => api.artifacts(run.id, 'environment'), [run.id]);
  const has = (path) => ((envFiles.data && envFiles.data.files) || []).some((f) => f.path === path);
  const diff = useText(artifactUrl(run.id, 'code/uncommitted.diff'), !!t['trainlab.git.diff_sha256']);
  const env = useText(artifactUrl(run.id, 'environment/environment.json'), has('environment/environment.json'));
  const children = useLoad(() => allRuns([run.experimentId], `tags.${quoteKey('mlflow.parentRunId')} = ${quoteValue(run.id)}`, 1000), [run.id]);
  const versions = useLoad(() => api.versions(`run_id = ${quoteValue(run.id)}`), [run.id]);
  const parent = t['mlflow.parentRunId'];
  let envItems = [];
  try { envItems = env ? flatten(JSON.parse(env)) : []; } catch { envItems = []; }
  return html`<div class="lineage">
    <section><h2>Code</h2>
      <${KeyValues} items=${code} empty="No git information: the run was not started inside a git repository." />
      ${diff ? html`<details><summary>Uncommitted diff (${diff.split('\n').length} lines)</summary><pre class="code diff">${diff}</pre></details>` : ''}
    </section>
    <section><h2>Data</h2>
      ${splits.length ? html`<table class="grid"><thead><tr><th>Split</th><th>Fingerprint (SHA-256)</th><th class="num">Rows</th></tr></thead><tbody>
        ${splits.map((s) => html`<tr><td>${s}</td><td><code>${t[`trainlab.data.${s}.digest`]}</code></td><td class="num">${t[`trainlab.data.${s}.rows`] || ''}</td></tr>`)}
      </tbody></table>` : ''}
      ${run.inputs.length ? html`<table class="grid"><thead><tr><th>Dataset</th><th>Context</th><th>Digest</th><th>Source</th></tr></thead><tbody>
        ${run.inputs.map((i) => html`<tr><td>${i.dataset.name}</td><td>${(i.tags || []).filter((x) => x.key === 'mlflow.data.context').map((x) => x.value)}</td>
          <td><code>${i.dataset.digest}</code></td><td class="wrap">${i.dataset.source_type}: ${i.dataset.source}</td></tr>`)}
      </tbody></table>` : ''}
      ${!splits.length && !run.inputs.length ? html`<p class="muted">No data fingerprints were recorded.</p>` : ''}
    </section>
    <section><h2>Environment</h2>
      <${KeyValues} items=${envItems.length ? envItems : Object.keys(t).filter((k) => k.startsWith('trainlab.env.')).map((k) => [k.slice(13), t[k]])} empty="No environment was recorded." />
      ${has('environment/requirements.txt') ? html`<p><a href=${`/runs/${run.id}?tab=artifacts`}>requirements.txt and more in the artifacts</a></p>` : ''}
    </section>
    <section><h2>Runs</h2>
      <p>Parent: ${parent ? html`<a href=${`/runs/${parent}`}>${parent}</a>` : html`<span class="muted">none</span>`}</p>
      ${children.loading ? html`<${Loading} what="child runs" />` : html`<p>Children: ${(children.data || []).length ? '' : html`<span class="muted">none</span>`}</p>
        <ul class="links">${(children.data || []).map(flat).map((c) => html`<li><a href=${`/runs/${c.id}`}>${c.name}</a> <span class="muted">${c.status}</span></li>`)}</ul>`}
    </section>
    <section><h2>Models registered from this run</h2>
      ${versions.loading ? html`<${Loading} />` : (versions.data || []).length ? html`<ul class="links">
        ${versions.data.map((v) => html`<li><a href=${`/models/${encodeURIComponent(v.name)}`}>${v.name}</a> version ${v.version}
          ${(v.aliases || []).map((a) => html` <span class="badge">@${a}</span>`)}</li>`)}</ul>` : html`<p class="muted">None.</p>`}
    </section>
  </div>`;
}

function flatten(obj, prefix = '') {
  const out = [];
  for (const [k, v] of Object.entries(obj)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) out.push(...flatten(v, `${prefix}${k}.`));
    else out.push([`${prefix}${k}`, Array.isArray(v) ? v.join(', ') : String(v)]);
  }
  return out;
}
