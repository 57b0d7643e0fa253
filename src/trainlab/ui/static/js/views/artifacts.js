// The artifacts of a run: a folder tree loaded as it opens, and a preview of the chosen file
// (text, JSON, YAML, CSV as a table, images) with its download link.
import { html, useEffect, useState } from '../lib.js';
import { api, artifactUrl } from '../api.js';
import { ErrorBox, Loading, useLoad } from './common.js';

const MAX_PREVIEW = 2 * 1024 * 1024;
const IMAGE = /\.(png|jpe?g|gif|svg|webp|bmp)$/i;
const TABLE = /\.(csv|tsv)$/i;
const JSON_FILE = /\.json$/i;
const TEXT = /(\.(txt|log|ya?ml|md|py|diff|patch|cfg|ini|toml|sh|html|xml|rst|r|sql|js|ts)|MLmodel|requirements.*|Dockerfile|LICENSE)$/i;

const fmtSize = (n) => (n === undefined ? '' : n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`);

export function Artifacts({ runId }) {
  const [chosen, setChosen] = useState(null);
  return html`<div class="artifacts">
    <div class="tree" aria-label="Artifact files"><${Folder} runId=${runId} path="" chosen=${chosen} onChoose=${setChosen} open /></div>
    <div class="preview">${chosen ? html`<${Preview} key=${chosen.path} runId=${runId} file=${chosen} />` : html`<p class="muted">Choose a file to preview it.</p>`}</div>
  </div>`;
}

function Folder({ runId, path, chosen, onChoose, open: startOpen }) {
  const [open, setOpen] = useState(!!startOpen);
  const listing = useLoad(() => (open ? api.artifacts(runId, path) : Promise.resolve(null)), [runId, path, open]);
  const files = (listing.data && listing.data.files) || [];
  const name = path.split('/').pop();
  return html`<div class="folder">
    ${path ? html`<button class="node dir" aria-expanded=${open} onClick=${() => setOpen(!open)}>${open ? '▾' : '▸'} ${name}/</button>` : ''}
    ${open ? html`<div class=${path ? 'children' : ''}>
      <${ErrorBox} error=${listing.error} />
      ${listing.loading && !listing.data ? html`<${Loading} />` : ''}
      ${listing.data && !files.length && !path ? html`<p class="muted">This run has no artifacts.</p>` : ''}
      ${files.filter((f) => f.is_dir).map((f) => html`<${Folder} key=${f.path} runId=${runId} path=${f.path} chosen=${chosen} onChoose=${onChoose} />`)}
      ${files.filter((f) => !f.is_dir).map((f) => html`<button key=${f.path}
        class=${chosen && chosen.path === f.path ? 'node file active' : 'node file'}
        onClick=${() => onChoose(f)}>${f.path.split('/').pop()} <span class="muted">${fmtSize(f.file_size)}</span></button>`)}
    </div>` : ''}
  </div>`;
}

function Preview({ runId, file }) {
  const url = artifactUrl(runId, file.path);
  const kind = IMAGE.test(file.path) ? 'image' : TABLE.test(file.path) ? 'table' : JSON_FILE.test(file.path) ? 'json' : TEXT.test(file.path) ? 'text' : 'other';
  const tooBig = (file.file_size || 0) > MAX_PREVIEW;
  const [text, setText] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    setText(null);
    setError(null);
    if (kind === 'image' || kind === 'other' || tooBig) return;
    fetch(url).then(async (r) => {
      const body = await r.text();
      if (!r.ok) throw new Error(safeMessage(body) || r.statusText);
      setText(body);
    }).catch(setError);
  }, [url]);
  let body;
  if (tooBig) body = html`<p class="muted">Too large to preview (${fmtSize(file.file_size)}).</p>`;
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
