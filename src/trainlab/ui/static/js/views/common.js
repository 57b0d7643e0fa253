// Pieces shared by the views: loading and error states, key/value tables, the URL's query.
import { html, useEffect, useState } from '../lib.js';
import { api } from '../api.js';
import { navigate } from '../router.js';

// Loads `fn()` when `deps` change: {data, error, loading}. On an error the last data stays, so
// a mistyped filter shows its message above the runs it had, not an empty page.
export function useLoad(fn, deps) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    fn().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => { live = false; };
  }, deps);
  return state;
}

// The link to an experiment in a page's breadcrumbs, by its name once it is known.
export function ExperimentCrumb({ id }) {
  const exp = useLoad(() => api.experiment(id), [id]);
  return html`<a href=${`/experiments/${id}`}>${exp.data ? exp.data.name : `experiment ${id}`}</a>`;
}

export function Loading({ what }) {
  return html`<p class="loading">Loading ${what || ''}…</p>`;
}

export function ErrorBox({ error }) {
  if (!error) return null;
  return html`<div class="error" role="alert">${error.code ? html`<b>${error.code}</b> ` : ''}${error.message || String(error)}</div>`;
}

// Whether an error says that what the address names is not there: unknown (404), or an id that
// cannot be one (400, e.g. /experiments/abc).
export const isMissing = (error) => !!error && (error.status === 404 || error.status === 400);

// The page for an address naming an experiment, run or model that does not exist: says so, with
// the server's words and the way back to the list it would be in.
export function NotFound({ what, name, error, back, backLabel }) {
  return html`<div class="page not-found">
    <div class="crumbs"><a href=${back}>${backLabel}</a> /</div>
    <h1>${what[0].toUpperCase() + what.slice(1)} not found</h1>
    <p role="alert">There is no ${what} <code>${name}</code>.${error && error.message ? html` <span class="muted">The server says: ${error.message}</span>` : ''}</p>
    <p><a class="button" href=${back}>← Back to ${backLabel.toLowerCase()}</a></p>
  </div>`;
}

// A key that may wrap after its separators (data_overlap_train_test, trainlab.data.test.digest)
// rather than inside a word.
const breakable = (key) => String(key).split(/(?<=[_./-])/).flatMap((part, i) => (i ? [html`<wbr />`, part] : [part]));

export function KeyValues({ items, empty, fmt }) {
  if (!items.length) return html`<p class="muted">${empty || 'None.'}</p>`;
  return html`<table class="kv"><tbody>
    ${items.map(([k, v]) => html`<tr><th>${breakable(k)}</th><td>${fmt ? fmt(v, k) : v}</td></tr>`)}
  </tbody></table>`;
}

export function getQuery() {
  return new URLSearchParams(location.search);
}

// Changes query parameters: views keep their state in the address, so a copied link opens the
// same view. In place (replacing the history entry), or with `push` as a step Back undoes (a
// new filter, order or page).
export function setQuery(updates, push = false) {
  const q = getQuery();
  for (const [k, v] of Object.entries(updates)) {
    if (v === undefined || v === null || v === '') q.delete(k);
    else q.set(k, v);
  }
  const s = q.toString();
  navigate(location.pathname + (s ? `?${s}` : ''), !push);
}

// The charts' settings, kept in the address (?xaxis=wall&log=1&smooth=0.6) as the rest of a
// view: a reload or a shared link opens the charts as they were. ``prefix`` keeps apart the
// settings of two sets of charts on one page (a run's metrics and its system metrics).
let smoothWrite = null;
export function useChartSettings(defaultX = 'step', prefix = '') {
  const q = getQuery();
  const key = (k) => `${prefix}${k}`;
  const smooth = Number(q.get(key('smooth')));
  return {
    xAxis: q.get(key('xaxis')) || defaultX,
    logScale: q.get(key('log')) === '1',
    smoothing: Number.isFinite(smooth) ? Math.min(0.99, Math.max(0, smooth)) : 0,
    setXAxis: (v) => setQuery({ [key('xaxis')]: v === defaultX ? '' : v }),
    setLogScale: (v) => setQuery({ [key('log')]: v ? '1' : '' }),
    // a dragged slider fires many times a second; browsers throttle address changes: the
    // last value of a drag is written
    setSmoothing: (v) => {
      clearTimeout(smoothWrite);
      smoothWrite = setTimeout(() => setQuery({ [key('smooth')]: v ? String(v) : '' }), 120);
    },
  };
}

export function Tabs({ tabs, current, onSelect }) {
  return html`<div class="tabs" role="tablist">
    ${tabs.map(([id, label]) => html`<button role="tab" aria-selected=${id === current}
      class=${id === current ? 'tab active' : 'tab'} onClick=${() => onSelect(id)}>${label}</button>`)}
  </div>`;
}
