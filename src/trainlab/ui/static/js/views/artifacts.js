// The artifacts of a run and the files of the models it logged: folder trees loaded as they open,
// and a preview of the chosen file (text, JSON, YAML, CSV as a table, images) with its download
// link.
import { html, useEffect, useState } from '../lib.js';
import { api, artifactUrl, modelFileUrl } from '../api.js';
import { ErrorBox, Loading, useLoad } from './common.js';

const MAX_PREVIEW = 2 * 1024 * 1024;
const IMAGE = /\.(png|jpe?g|gif|svg|webp|bmp)$/i;
const TABLE = /\.(csv|tsv)$/i;
const JSON_FILE = /\.json$/i;
const TEXT = /(\.(txt|log|ya?ml|md|py|diff|patch|cfg|ini|toml|sh|html|xml|rst|r|sql|js|ts)|MLmodel|requirements.*|Dockerfile|LICENSE)$/i;

const fmtSize = (n) => (n === undefined ? '' : n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`);

// Where files come from: a run's artifacts or a logged model's files.
const runFiles = (runId) => ({ key: runId, list: (path) => api.artifacts(runId, path), url: (path) => artifactUrl(runId, path) });
const modelFiles = (modelId) => ({ key: modelId, list: (path) => api.modelArtifacts(modelId, path), url: (path) => modelFileUrl(modelId, path) });

export function Artifacts({ run }) {
  const [chosen, setChosen] = useState(null); // {source, file}
  const models = useLoad(() => api.loggedModels(run.experimentId, run.id), [run.id]);
  const pick = (source) => (file) => setChosen({ source, file });
  const isChosen = (source) => chosen && chosen.source.key === source.key ? chosen.file : null;
  const files = runFiles(run.id);
  return html`<div class="artifacts">
    <div class="tree" aria-label="Artifact files">
      <${Folder} source=${files} path="" chosen=${isChosen(files)} onChoose=${pick(files)} open />
      ${(models.data || []).map(({ info }) => {
        const source = modelFiles(info.model_id);
        return html`<div class="model-files" data-model=${info.model_id}>
          <h4 title=${`models:/${info.model_id}`}>Logged model: ${info.name}</h4>
          <${Folder} source=${source} path="" chosen=${isChosen(source)} onChoose=${pick(source)} open />
        </div>`;
      })}
      <${ErrorBox} error=${models.error} />
    </div>
    <div class="preview">${chosen ? html`<${Preview} key=${chosen.source.key + chosen.file.path} source=${chosen.source} file=${chosen.file} />` : html`<p class="muted">Choose a file to preview it.</p>`}</div>
  </div>`;
}

function Folder({ source, path, chosen, onChoose, open: startOpen }) {
  const [open, setOpen] = useState(!!startOpen);
  const listing = useLoad(() => (open ? source.list(path) : Promise.resolve(null)), [source.key, path, open]);
  const files = (listing.data && listing.data.files) || [];
  const name = path.split('/').pop();
  return html`<div class="folder">
    ${path ? html`<button class="node dir" aria-expanded=${open} onClick=${() => setOpen(!open)}>${open ? '▾' : '▸'} ${name}/</button>` : ''}
    ${open ? html`<div class=${path ? 'children' : ''}>
      <${ErrorBox} error=${listing.error} />
      ${listing.loading && !listing.data ? html`<${Loading} />` : ''}
      ${listing.data && !files.length && !path ? html`<p class="muted">No files.</p>` : ''}
      ${files.filter((f) => f.is_dir).map((f) => html`<${Folder} key=${f.path} source=${source} path=${f.path} chosen=${chosen} onChoose=${onChoose} />`)}
      ${files.filter((f) => !f.is_dir).map((f) => html`<button key=${f.path}
        class=${chosen && chosen.path === f.path ? 'node file active' : 'node file'}
        onClick=${() => onChoose(f)}>${f.path.split('/').pop()} <span class="muted">${fmtSize(f.file_size)}</span></button>`)}
    </div>` : ''}
  </div>`;
}

// Of a text file too large to preview whole, its start.
const HEAD_BYTES = 64 * 1024;

// The first `limit` bytes of what `url` answers, without reading the rest.
async function head(url, limit) {
  const r = await fetch(url, { headers: { Range: `bytes=0-${limit - 1}` } });
  if (!r.ok) throw new Error(safeMessage(await r.text()) || r.statusText);
  const reader = r.body.getReader();
  const parts = [];
  let size = 0;
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    size += value.length;
  }
  reader.cancel();
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { bytes.set(p, at); at += p.length; }
  const end = bytes.subarray(0, limit).lastIndexOf(10) + 1 || Math.min(size, limit); // whole lines
  return { text: new TextDecoder().decode(bytes.subarray(0, end)), bytes: end };
}

function Preview({ source, file }) {
  const url = source.url(file.path);
  const kind = IMAGE.test(file.path) ? 'image' : TABLE.test(file.path) ? 'table' : JSON_FILE.test(file.path) ? 'json' : TEXT.test(file.path) ? 'text' : 'other';
  const tooBig = (file.file_size || 0) > MAX_PREVIEW;
  const [text, setText] = useState(null);
  const [shown, setShown] = useState(0); // bytes of a large file's start shown
  const [error, setError] = useState(null);
  useEffect(() => {
    setText(null);
    setError(null);
    if (kind === 'image' || kind === 'other') return;
    if (tooBig) {
      if (kind === 'text' || kind === 'table') head(url, HEAD_BYTES).then((h) => { setText(h.text); setShown(h.bytes); }).catch(setError);
      return;
    }
    fetch(url).then(async (r) => {
      const body = await r.text();
      if (!r.ok) throw new Error(safeMessage(body) || r.statusText);
      setText(body);
    }).catch(setError);
  }, [url]);
  let body;
  if (tooBig && text !== null) {
    body = html`<p class="muted">The first ${fmtSize(shown)} of ${fmtSize(file.file_size)}: download it for the rest.</p><pre class="code">${text}</pre>`;
  } else if (tooBig && !error && (kind === 'text' || kind === 'table')) body = html`<${Loading} />`;
  else if (tooBig && !error) body = html`<p class="muted">Too large to preview (${fmtSize(file.file_size)}).</p>`;
  else if (kind === 'image') body = html`<img class="artifact-image" src=${url} alt=${file.path} />`;
  else if (kind === 'other') body = html`<p class="muted">No preview for this kind of file.</p>`;
  else if (error) body = html`<div class="error">${error.message}</div>`;
  else if (text === null) body = html`<${Loading} />`;
  else if (kind === 'table') body = html`<${CsvTable} text=${text} sep=${file.path.toLowerCase().endsWith('.tsv') ? '\t' : ','} />`;
  else if (kind === 'json') body = html`<pre class="code">${pretty(text)}</pre>`;
  else body = html`<pre class="code">${text}</pre>`;
  return html`<div class="file-preview" data-path=${file.path}>
    <div class="preview-head"><b>${file.path}</b> <span class="muted">${fmtSize(file.file_size)}</span>
      <a class="button" href=${url} download=${file.path.split('/').pop()}>Download</a></div>
    ${body}
  </div>`;
}

function safeMessage(body) {
  try { return JSON.parse(body).message; } catch { return body.slice(0, 200); }
}

function pretty(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
}

// RFC 4180 CSV: quoted fields, doubled quotes, newlines inside quotes.
export function parseCsv(text, sep = ',', maxRows = 1000) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === sep) { row.push(field); field = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); field = '';
      rows.push(row); row = [];
      if (rows.length > maxRows) break;
    } else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

function CsvTable({ text, sep }) {
  const rows = parseCsv(text, sep);
  if (!rows.length) return html`<p class="muted">Empty file.</p>`;
  const [head, ...body] = rows;
  const shown = body.slice(0, 1000);
  return html`<div class="table-wrap"><table class="grid csv">
    <thead><tr>${head.map((h) => html`<th>${h}</th>`)}</tr></thead>
    <tbody>${shown.map((r) => html`<tr>${r.map((v) => html`<td>${v}</td>`)}</tr>`)}</tbody>
  </table>${body.length > shown.length ? html`<p class="muted">First ${shown.length} rows shown.</p>` : ''}</div>`;
}
