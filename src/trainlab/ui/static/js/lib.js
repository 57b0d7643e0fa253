// The UI's one import of Preact + htm (vendored, see scripts/vendor-ui.sh) and small helpers.
export {
  html, render, useState, useEffect, useMemo, useRef, useCallback,
} from '../vendor/preact-htm.module.js';
import { html } from '../vendor/preact-htm.module.js';

// A run, flattened: params/metrics/tags as objects keyed by name. It comes either in MLflow's
// wire format (runs/get: lists of {key, value}, metrics with their step) or as the runs table
// sends it (trainlab/ui/runs/table: already objects, metrics as latest values).
export function flat(run) {
  const d = run.data;
  const obj = (xs, f = (x) => x.value) => Object.fromEntries((xs || []).map((x) => [x.key, f(x)]));
  const nums = (o) => Object.fromEntries(Object.entries(o || {}).map(([k, v]) => [k, num(v)]));
  return {
    id: run.info.run_id,
    name: run.info.run_name || run.info.run_id.slice(0, 8),
    experimentId: run.info.experiment_id,
    status: run.info.status,
    deleted: run.info.lifecycle_stage === 'deleted',
    start: run.info.start_time ? Number(run.info.start_time) : null,
    end: run.info.end_time ? Number(run.info.end_time) : null,
    user: run.info.user_id,
    artifactUri: run.info.artifact_uri,
    params: d ? obj(d.params) : run.params || {},
    metrics: d ? obj(d.metrics, (m) => num(m.value)) : nums(run.metrics),
    metricSteps: d ? obj(d.metrics, (m) => Number(m.step || 0)) : {},
    tags: d ? obj(d.tags) : run.tags || {},
    inputs: (run.inputs && run.inputs.dataset_inputs) || [],
  };
}

// Proto-JSON sends NaN and infinities as strings.
export function num(v) {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return Number(v);
}

export function fmtNum(v) {
  if (v === undefined || v === null || v === '') return '';
  const x = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(x)) return typeof v === 'number' ? String(v) : v;
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return x.toExponential(4);
  return String(Number(x.toPrecision(5)));
}

export function fmtTime(ms) {
  if (!ms) return '';
  const d = new Date(Number(ms));
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function fmtAgo(ms) {
  if (!ms) return '';
  const s = (Date.now() - Number(ms)) / 1000;
  if (s < 60) return 'just now';
  const units = [[60, 'minute'], [3600, 'hour'], [86400, 'day'], [86400 * 30, 'month'], [86400 * 365, 'year']];
  let [div, name] = units[0];
  for (const u of units) if (s >= u[0]) [div, name] = u;
  const n = Math.floor(s / div);
  return `${n} ${name}${n === 1 ? '' : 's'} ago`;
}

export function fmtDuration(start, end) {
  if (!start) return '';
  const s = ((end || Date.now()) - start) / 1000;
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

// A percent-decoded address part; a malformed escape ("%E0%A4%A") is kept as it is.
export function decode(part) {
  try {
    return decodeURIComponent(part);
  } catch (e) {
    return part;
  }
}

// Filter-grammar quoting (SQL style: a doubled quote stands for itself).
export const quoteKey = (k) => '`' + k.replace(/`/g, '``') + '`';
export const quoteValue = (v) => "'" + String(v).replace(/'/g, "''") + "'";

export const PALETTE = [
  '#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf',
  '#bcbd22', '#7f7f7f',
];
// The palette, then hues a golden angle apart: a hundred runs get a hundred colours.
export const color = (i) => (i < PALETTE.length ? PALETTE[i] : `hsl(${Math.round((i * 137.508) % 360)}, 62%, 42%)`);

// Scores by split: held out (validation, then test, cross-validation), then unprefixed ones (rmse,
// acc), then training's.
const SPLITS = [[/^(valid|val|validation|eval)[_/.]/, 0], [/^test[_/.]/, 1], [/^cv[_/.]/, 2], [/^train[_/.]/, 4]];
export const splitRank = (key) => (SPLITS.find(([re]) => re.test(key)) || [null, 3])[1];

const STATUS_CLASS = { FINISHED: 'ok', RUNNING: 'run', FAILED: 'bad', KILLED: 'bad', SCHEDULED: 'run' };

// A run's status badge (a flattened run): a trial the pruner stopped ends KILLED, and says so,
// in grey, apart from a crash.
export function Status({ run }) {
  const pruned = run.tags && run.tags['trainlab.trial.state'] === 'PRUNED';
  return html`<span class=${`status ${pruned ? 'pruned' : STATUS_CLASS[run.status] || ''}`}>${run.status}${pruned ? ' (pruned)' : ''}</span>`;
}
