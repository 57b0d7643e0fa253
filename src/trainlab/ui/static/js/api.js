// The server's JSON API: MLflow's under /ajax-api/2.0/mlflow, trainlab's own under
// /ajax-api/2.0/trainlab. Errors arrive as {error_code, message} and are thrown as ApiError.
const BASE = '/ajax-api/2.0';

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null) continue;
    for (const x of Array.isArray(v) ? v : [v]) q.append(k, String(x));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function call(url, init) {
  const resp = await fetch(url, init);
  const text = await resp.text();
  let body;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError('BAD_RESPONSE', `The server answered ${resp.status} with: ${text.slice(0, 200)}`, resp.status);
  }
  if (!resp.ok) throw new ApiError(body.error_code || 'ERROR', body.message || resp.statusText, resp.status);
  return body;
}

export const get = (path, params) => call(BASE + path + query(params));
export const post = (path, body) => call(BASE + path, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

export const artifactUrl = (runId, path) => `/get-artifact${query({ run_id: runId, path })}`;
export const modelFileUrl = (modelId, path) => `${BASE}/mlflow/logged-models/${encodeURIComponent(modelId)}/artifacts/files${query({ artifact_file_path: path })}`;
const sqlString = (v) => `'${String(v).replace(/'/g, "''")}'`;

export const api = {
  experiments: () => get('/trainlab/ui/experiments').then((r) => r.experiments || []),
  experiment: (id) => get('/mlflow/experiments/get', { experiment_id: id }).then((r) => r.experiment),
  keys: (ids) => get('/trainlab/ui/experiments/keys', { experiment_ids: ids }),
  table: (body) => post('/trainlab/ui/runs/table', body),
  run: (id) => get('/mlflow/runs/get', { run_id: id }).then((r) => r.run),
  history: (runIds, key, maxResults, range) => get('/mlflow/metrics/get-history-bulk-interval', {
    run_ids: runIds,
    metric_key: key,
    max_results: maxResults,
    start_step: range ? range[0] : undefined,
    end_step: range ? range[1] : undefined,
  }).then((r) => r.metrics || []),
  artifacts: (runId, path) => get('/mlflow/artifacts/list', { run_id: runId, path: path || undefined }),
  // The models a run logged (MLflow 3 keeps their files apart from the run's), and their files.
  loggedModels: (experimentId, runId) => post('/mlflow/logged-models/search', {
    experiment_ids: [experimentId], filter: `source_run_id = ${sqlString(runId)}`, max_results: 100,
  }).then((r) => r.models || []),
  modelArtifacts: (modelId, path) => get(`/mlflow/logged-models/${encodeURIComponent(modelId)}/artifacts/directories`, { artifact_directory_path: path || undefined }),
  models: () => get('/mlflow/registered-models/search', { max_results: 1000 }).then((r) => r.registered_models || []),
  model: (name) => get('/mlflow/registered-models/get', { name }).then((r) => r.registered_model),
  versions: (filter) => get('/mlflow/model-versions/search', { filter, max_results: 10000 }).then((r) => r.model_versions || []),
  aliasHistory: (name) => get('/trainlab/registered-models/alias-history', { name }),
};

// All runs matching a filter (for studies and lineage), page after page up to `limit`.
export async function allRuns(experimentIds, filter, limit = 5000) {
  const out = [];
  let total = 0;
  do {
    const page = await api.table({
      experiment_ids: experimentIds, filter, max_results: 1000, offset: out.length,
    });
    const runs = page.runs || [];
    out.push(...runs);
    total = page.total;
    if (!runs.length) break;
  } while (out.length < Math.min(total, limit));
  return out;
}
