// Experiments: every experiment with its run count and last activity, searchable by name.
import { html, useState } from '../lib.js';
import { fmtAgo, fmtTime } from '../lib.js';
import { api } from '../api.js';
import { ErrorBox, Loading, useLoad } from './common.js';

export function Experiments() {
  const { data, error, loading } = useLoad(() => api.experiments(), []);
  const [search, setSearch] = useState('');
  const rows = (data || [])
    .filter((r) => r.experiment.name.toLowerCase().includes(search.toLowerCase()))
    .sort((a, b) => Number(b.last_activity) - Number(a.last_activity));
  return html`<div class="page">
    <div class="title-row">
      <h1>Experiments</h1>
      <input class="search" type="search" placeholder="Search experiments by name"
        aria-label="Search experiments" value=${search} onInput=${(e) => setSearch(e.target.value)} />
    </div>
    <${ErrorBox} error=${error} />
    ${loading && !data ? html`<${Loading} what="experiments" />` : html`
      <table class="grid" id="experiments">
        <thead><tr><th>Name</th><th class="num">Runs</th><th>Last activity</th><th>Created</th><th class="num">ID</th></tr></thead>
        <tbody>
          ${rows.map((r) => html`<tr>
            <td><a href=${`/experiments/${r.experiment.experiment_id}`}>${r.experiment.name}</a></td>
            <td class="num">${r.runs.toLocaleString()}</td>
            <td title=${fmtTime(r.last_activity)}>${fmtAgo(r.last_activity)}</td>
            <td>${fmtTime(r.experiment.creation_time)}</td>
            <td class="num muted">${r.experiment.experiment_id}</td>
          </tr>`)}
        </tbody>
      </table>
      ${rows.length === 0 ? html`<p class="muted">${search ? `No experiment matches "${search}".` : 'No experiments yet: log a run with trainlab or mlflow and it appears here.'}</p>` : ''}`}
  </div>`;
}
