// The runs table of an experiment: server-side sorting, filtering (the search grammar) and paging,
// a column chooser, selection for compare, and child runs folded under their parent.
import { html, useEffect, useMemo, useState } from '../lib.js';
import { flat, fmtDuration, fmtNum, fmtTime, quoteKey, quoteValue, splitRank, Status } from '../lib.js';
import { api } from '../api.js';
import { navigate } from '../router.js';
import { ErrorBox, Loading, NotFound, getQuery, setQuery, isMissing, useLoad } from './common.js';

const PAGE = 100;
const PREFIX = { p: 'params', m: 'metrics', t: 'tags' };

// Columns live in the address as "m:rmse,p:lr,t:team"; anything else there is left out.
function parseCols(s) {
  return (s || '').split(',').filter((c) => /^[mpt]:./.test(c)).map((c) => ({ kind: c[0], key: c.slice(2) }));
}
const colId = (c) => `${c.kind}:${c.key}`;

// The columns shown until the user chooses (the `cols` query parameter): six metrics, then six
// params, ranked from the runs on the first page shown, so the same runs give the same columns.
const DEFAULT_COLS = 6;
const HIDDEN = /^(system|importance)\//; // system metrics have their own tab; importances are a study's
// Bookkeeping rather than results: data checks, sizes, counts, memory, times.
const BOOKKEEPING = /^(data_overlap_|trials_|pruner\/)|memory|(^|[_/.])(iterations?|best_iteration|epochs?|steps?|time|duration|runtime|elapsed|seconds)(_s|_ms|_sec)?$/;

// How many runs have each key, and whether its value differs between them.
function keyStats(runs, field, skip) {
  const stats = new Map();
  let withAny = 0;
  for (const r of runs) {
    const keys = Object.keys(r[field]).filter((k) => !skip || !skip.test(k));
    if (keys.length) withAny += 1;
    for (const k of keys) {
      if (!stats.has(k)) stats.set(k, { count: 0, values: new Set() });
      const s = stats.get(k);
      s.count += 1;
      s.values.add(String(r[field][k]));
    }
  }
  const many = runs.length > 1; // with one run, nothing varies and nothing is constant
  return [...stats].map(([key, s]) => ({
    key,
    count: s.count,
    varying: !many || s.values.size > 1,
    common: 2 * s.count >= withAny, // most of the runs that have any
  }));
}

// The metrics the runs are tuned on (a study's `tune.metric` param) or sorted by.
function objectives(runs, order) {
  const out = new Set();
  for (const r of runs) for (const m of (r.params['tune.metric'] || '').split(',')) if (m) out.add(m.trim());
  const sorted = /^metrics?\.(`(?:[^`]|``)+`|\S+)/.exec(order || '');
  if (sorted) out.add(sorted[1].replace(/^`|`$/g, '').replace(/``/g, '`'));
  return out;
}

// Lexicographic comparison of rank tuples, the key's name last.
const byRank = (rank) => (a, b) => {
  const ra = rank(a);
  const rb = rank(b);
  for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i] - rb[i];
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
};

// Metrics: the tuned-on or sorted-by ones, then results before bookkeeping; among each, those
// that differ between the runs, then those most runs have, then by split (validation, test,
// cross-validation, unprefixed, training). Bookkeeping the same in every run (a data-overlap
// count of 0) is left out. Params: those that differ between the runs before constant ones
// (the same data source in every run tells nothing apart), then those most runs have.
function defaultCols(runs, order) {
  const goal = objectives(runs, order);
  const metrics = keyStats(runs, 'metrics', HIDDEN)
    .map((s) => ({ ...s, goal: goal.has(s.key), bookkeeping: BOOKKEEPING.test(s.key) }))
    .filter((s) => s.goal || !s.bookkeeping || s.varying)
    .sort(byRank((s) => [!s.goal, s.bookkeeping, !s.varying, !s.common, splitRank(s.key), -s.count].map(Number)))
    .slice(0, DEFAULT_COLS)
    .map(({ key }) => ({ kind: 'm', key }));
  const params = keyStats(runs, 'params')
    .sort(byRank((s) => [!s.varying, !s.common, -s.count].map(Number)))
    .slice(0, DEFAULT_COLS)
    .map(({ key }) => ({ kind: 'p', key }));
  return [...metrics, ...params];
}

function orderField(c) {
  return `${PREFIX[c.kind]}.${quoteKey(c.key)}`;
}

export function Runs({ experimentId }) {
  const q = getQuery();
  const filter = q.get('filter') || '';
  const order = q.get('order') || 'attributes.start_time DESC';
  const grouped = q.get('group') !== '0';
  const exp = useLoad(() => api.experiment(experimentId), [experimentId]);
  const [chooser, setChooser] = useState(false);
  // Every key of the experiment, for the column chooser: loaded when it first opens.
  const keys = useLoad(() => (chooser ? api.keys([experimentId]) : Promise.resolve(null)), [experimentId, chooser]);
  const [defaults, setDefaults] = useState(null); // from the first page shown, then fixed
  const query = `${filter}\n${order}\n${grouped}`;
  // The page is in the address too (`page=3`), so Back from a run returns to it; a new filter,
  // order or grouping starts again at page one.
  const pageNo = Math.max(0, (parseInt(q.get('page'), 10) || 1) - 1);
  const goTo = (n) => setQuery({ page: n > 0 ? n + 1 : '' }, true);
  const requery = (updates) => setQuery({ ...updates, page: '' }, true);
  const [draft, setDraft] = useState(filter);
  const [selected, setSelected] = useState(new Set());
  const [expanded, setExpanded] = useState({}); // run id -> { runs, children } (or 'loading')
  useEffect(() => setExpanded({}), [query]);
  useEffect(() => setDraft(filter), [filter]);

  const table = useLoad(() => api.table({
    experiment_ids: [experimentId],
    filter: filter || undefined,
    order_by: [order],
    max_results: PAGE,
    offset: pageNo * PAGE,
    top_level_only: grouped && !filter,
  }).then((data) => ({ ...data, pageNo })), [experimentId, query, pageNo]);

  const page = table.data;
  const runs = useMemo(() => (page && page.runs || []).map(flat), [page]);
  useEffect(() => { if (!defaults && page) setDefaults(defaultCols(runs, order)); }, [page]);
  const shown = defaults || (page ? defaultCols(runs, order) : []);
  const chosen = q.get('cols') !== null;
  // Unfolded child runs (a study's trials) add, unless columns were chosen, the metric the
  // study tuned on (their score) and the params that tell them apart: what was tuned.
  const childCols = useMemo(() => {
    const kids = Object.values(expanded).flatMap((e) => e.runs || []);
    if (chosen || !kids.length) return [];
    const have = new Set(shown.map(colId));
    const goals = [...objectives([...runs, ...kids], order)]
      .filter((m) => !have.has(`m:${m}`) && kids.some((k) => m in k.metrics))
      .map((key) => ({ kind: 'm', key }));
    const params = kids.length < 2 ? [] : keyStats(kids, 'params').filter((k) => k.varying && !have.has(`p:${k.key}`))
      .sort(byRank((k) => [!k.common, -k.count].map(Number))).slice(0, DEFAULT_COLS)
      .map(({ key }) => ({ kind: 'p', key }));
    return [...goals, ...params];
  }, [expanded, chosen, shown, runs]);
  const cols = chosen ? parseCols(q.get('cols')) : [...shown, ...childCols];
  const total = page ? page.total : 0;
  const pages = Math.max(1, Math.ceil(total / PAGE));
  if (isMissing(exp.error)) {
    return html`<${NotFound} what="experiment" name=${experimentId} error=${exp.error} back="/" backLabel="Experiments" />`;
  }

  function sortBy(field) {
    const [cur, dir] = order.split(/ (?=ASC$|DESC$)/);
    requery({ order: `${field} ${cur === field && dir === 'DESC' ? 'ASC' : 'DESC'}` });
  }

  function sortMark(field) {
    const [cur, dir] = order.split(/ (?=ASC$|DESC$)/);
    return cur === field ? (dir === 'ASC' ? ' ▲' : ' ▼') : '';
  }

  async function toggle(run) {
    if (expanded[run.id]) {
      const { [run.id]: _, ...rest } = expanded;
      setExpanded(rest);
      return;
    }
    setExpanded({ ...expanded, [run.id]: 'loading' });
    const found = await api.table({
      experiment_ids: [experimentId],
      filter: `tags.${quoteKey('mlflow.parentRunId')} = ${quoteValue(run.id)}`,
      order_by: [order],
      max_results: 1000,
    });
    // with how many children each has: a child run folds its own children (nested runs)
    setExpanded((e) => ({ ...e, [run.id]: { runs: (found.runs || []).map(flat), children: found.children || {} } }));
  }

  function select(id, on) {
    const s = new Set(selected);
    if (on) s.add(id); else s.delete(id);
    setSelected(s);
  }

  function setCols(next) {
    setQuery({ cols: next.map(colId).join(',') || ',' }); // ',': no columns, not the defaults
  }

  const header = html`<tr>
    <th class="check"><input type="checkbox" aria-label="Select all on this page"
      checked=${runs.length > 0 && runs.every((r) => selected.has(r.id))}
      onChange=${(e) => { const s = new Set(selected); runs.forEach((r) => (e.target.checked ? s.add(r.id) : s.delete(r.id))); setSelected(s); }} /></th>
    <th class="sortable name" onClick=${() => sortBy('attributes.run_name')}>Run${sortMark('attributes.run_name')}</th>
    <th class="sortable" onClick=${() => sortBy('attributes.status')}>Status${sortMark('attributes.status')}</th>
    <th class="sortable" onClick=${() => sortBy('attributes.start_time')}>Started${sortMark('attributes.start_time')}</th>
    <th>Duration</th>
    ${cols.map((c) => html`<th class=${`sortable col-${c.kind}`} title=${`${PREFIX[c.kind]}.${c.key}`}
      onClick=${() => sortBy(orderField(c))}><span class="kind">${c.kind}</span>${c.key}${sortMark(orderField(c))}</th>`)}
  </tr>`;

  // how many child runs each run shown has: of the page's runs, and of those unfolded
  const childCounts = Object.assign({}, page && page.children, ...Object.values(expanded).map((e) => e.children));

  function row(r, depth) {
    const kids = childCounts[r.id];
    const open = expanded[r.id];
    const study = r.tags['trainlab.study.role'] === 'parent';
    return html`<tr class=${depth ? 'child' : ''} data-run=${r.id}>
      <td class="check"><input type="checkbox" aria-label=${`Select ${r.name}`} checked=${selected.has(r.id)}
        onChange=${(e) => select(r.id, e.target.checked)} /></td>
      <td class="name" style=${`padding-left:${6 + depth * 22}px`}>
        ${kids ? html`<button class="fold" aria-expanded=${!!open} title=${`${kids} child runs`}
          onClick=${() => toggle(r)}>${open ? '▾' : '▸'} ${kids}</button>` : ''}
        <a class="run-name" href=${`/runs/${r.id}`} title=${r.name}>${r.name}</a>
        ${study ? html` <a class="badge" href=${`/studies/${r.id}`}>study</a>` : ''}
      </td>
      <td><${Status} run=${r} /></td>
      <td>${fmtTime(r.start)}</td>
      <td>${fmtDuration(r.start, r.end)}</td>
      ${cols.map((c) => {
        const v = c.kind === 'm' ? r.metrics[c.key] : c.kind === 'p' ? r.params[c.key] : r.tags[c.key];
        if (c.kind === 'm') return html`<td class="num">${fmtNum(v)}</td>`;
        // a sampled float param (0.03312677040518849) to 5 significant digits, whole on hover
        const long = typeof v === 'string' && /^-?\d*\.\d{6,}(e[-+]?\d+)?$/i.test(v);
        return html`<td class=${long ? 'num' : ''} title=${long ? v : ''}>${long ? fmtNum(Number(v)) : v}</td>`;
      })}
    </tr>`;
  }

  const rows = [];
  const addRows = (r, depth) => {
    rows.push(row(r, depth));
    const open = expanded[r.id];
    if (open === 'loading') rows.push(html`<tr class="child"><td></td><td colspan=${4 + cols.length}><${Loading} what="child runs" /></td></tr>`);
    else if (open) open.runs.forEach((c) => addRows(c, depth + 1));
  };
  runs.forEach((r) => addRows(r, 0));

  const deleted = exp.data && exp.data.lifecycle_stage === 'deleted';
  const first = (page ? page.pageNo : 0) * PAGE + 1; // of the page on screen, while the next loads
  return html`<div class="page wide">
    <div class="crumbs"><a href="/">Experiments</a> / </div>
    <div class="title-row">
      <h1>${exp.data ? exp.data.name : `Experiment ${experimentId}`}</h1>
      ${deleted ? html`<span class="status bad">deleted</span>` : ''}
      ${selected.size ? html`<span class="selection muted">${selected.size} selected
        <button type="button" class="link" onClick=${() => setSelected(new Set())}>clear</button></span>` : ''}
      <button class="primary" disabled=${selected.size < 2} title=${selected.size < 2 ? 'Select two or more runs (on any page)' : ''}
        onClick=${() => navigate(`/compare?runs=${[...selected].join(',')}`)}>${selected.size >= 2 ? `Compare ${selected.size} runs` : 'Compare runs'}</button>
    </div>
    <${ErrorBox} error=${exp.error} />
    ${deleted ? html`<p class="error" role="status">This experiment is deleted, and its runs with it: searches
      leave them out. Restore it with MlflowClient().restore_experiment("${experimentId}").</p>` : ''}
    <form class="filter" onSubmit=${(e) => { e.preventDefault(); requery({ filter: draft.trim() }); }}>
      <input type="search" name="filter" aria-label="Filter runs" spellcheck="false"
        placeholder="metrics.rmse < 0.5 AND params.model = 'xgboost' OR tags.team IN ('a', 'b')"
        value=${draft} onInput=${(e) => setDraft(e.target.value)} />
      <button type="submit">Filter</button>
      ${filter ? html`<button type="button" onClick=${() => requery({ filter: '' })}>Clear</button>` : ''}
      <label class="toggle" title="Fold child runs (tuning trials) under their parent">
        <input type="checkbox" checked=${grouped} onChange=${(e) => requery({ group: e.target.checked ? '' : '0' })} /> Group child runs${grouped && filter ? html` <span class="muted">(not while filtering: matching trials are listed too)</span>` : ''}
      </label>
      <button type="button" class="columns-button" aria-expanded=${chooser} onClick=${() => setChooser(!chooser)}>Columns (${cols.length})</button>
    </form>
    ${table.error ? html`<div class="error filter-error" role="alert">${table.error.message}</div>` : ''}
    ${chooser ? (keys.data ? html`<${ColumnChooser} keys=${keys.data} cols=${cols} onChange=${setCols} onClose=${() => setChooser(false)} />` : html`<${Loading} what="columns" />`) : ''}
    <div class="pager">
      <span class="count">${table.error ? (page ? 'Not shown: the runs below are those of the last table shown.' : '')
        : page && !exp.loading ? (runs.length ? `${first.toLocaleString()}–${(first + runs.length - 1).toLocaleString()} of ${total.toLocaleString()} ${grouped && !filter && Object.keys(page.children || {}).length ? 'top-level runs (child runs folded under them)' : 'runs'}`
          : total ? `No runs on page ${pageNo + 1}: there are ${pages.toLocaleString()} pages.`
            : filter ? `No runs match.${(page.unknown_keys || []).length ? ` No run here has ${page.unknown_keys.join(', ')}.` : ''}`
              : 'This experiment has no runs.') : ''}</span>
      ${table.loading ? html`<span class="muted"> loading…</span>` : ''}
      <button disabled=${pageNo === 0} title="First page" aria-label="First page" onClick=${() => goTo(0)}>«</button>
      <button disabled=${pageNo === 0} onClick=${() => goTo(Math.min(pageNo, pages) - 1)}>‹ Previous</button>
      <label class="page-no">Page <input type="number" min="1" max=${pages} value=${pageNo + 1} aria-label="Page number"
        onChange=${(e) => { const n = parseInt(e.target.value, 10); if (n >= 1) goTo(Math.min(n, pages) - 1); }} /> of ${pages.toLocaleString()}</label>
      <button disabled=${!page || pageNo + 1 >= pages} onClick=${() => goTo(pageNo + 1)}>Next ›</button>
      <button disabled=${!page || pageNo + 1 >= pages} title="Last page" aria-label="Last page" onClick=${() => goTo(pages - 1)}>»</button>
    </div>
    <div class="table-wrap">
      <table class="grid runs" id="runs"><thead>${header}</thead><tbody>${rows}</tbody></table>
    </div>
  </div>`;
}

function ColumnChooser({ keys, cols, onChange, onClose }) {
  const [search, setSearch] = useState('');
  const chosen = new Set(cols.map(colId));
  const groups = [['m', 'Metrics', keys.metrics], ['p', 'Params', keys.params], ['t', 'Tags', keys.tags]]
    .map(([kind, label, counts]) => [kind, label, Object.keys(counts)]);
  function flip(c, on) {
    onChange(on ? [...cols, c] : cols.filter((x) => colId(x) !== colId(c)));
  }
  return html`<div class="chooser" role="dialog" aria-label="Choose columns">
    <div class="chooser-head">
      <input type="search" placeholder="Find a key" aria-label="Find a column" value=${search} onInput=${(e) => setSearch(e.target.value)} />
      <button onClick=${() => onChange([])}>None</button>
      <button onClick=${onClose}>Done</button>
    </div>
    <div class="chooser-groups">
      ${groups.map(([kind, label, list]) => html`<fieldset>
        <legend>${label} (${list.length})</legend>
        ${list.filter((k) => k.toLowerCase().includes(search.toLowerCase())).map((key) => {
          const c = { kind, key };
          return html`<label class="opt"><input type="checkbox" checked=${chosen.has(colId(c))}
            onChange=${(e) => flip(c, e.target.checked)} /> ${key}</label>`;
        })}
      </fieldset>`)}
    </div>
  </div>`;
}
