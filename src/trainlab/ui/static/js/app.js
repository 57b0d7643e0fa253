// The single-page app: a router over readable addresses, so every view can be linked to.
import { decode, html, render } from './lib.js';
import { useLocation } from './router.js';
import { Experiments } from './views/experiments.js';
import { Runs } from './views/runs.js';
import { RunPage } from './views/run.js';
import { Compare } from './views/compare.js';
import { Study } from './views/study.js';
import { Models, ModelPage } from './views/models.js';

const ROUTES = [
  [/^\/$/, () => html`<${Experiments} />`],
  [/^\/experiments\/([^/]+)\/?$/, (m) => html`<${Runs} experimentId=${m[1]} />`],
  [/^\/runs\/([^/]+)\/?$/, (m) => html`<${RunPage} runId=${m[1]} />`],
  [/^\/compare\/?$/, () => html`<${Compare} />`],
  [/^\/studies\/([^/]+)\/?$/, (m) => html`<${Study} runId=${m[1]} />`],
  [/^\/models\/?$/, () => html`<${Models} />`],
  [/^\/models\/(.+?)\/?$/, (m) => html`<${ModelPage} name=${decode(m[1])} />`],
];

function App() {
  const loc = useLocation();
  const path = loc.split('?')[0];
  let view = html`<div class="page"><h1>Not found</h1><p>No page at <code>${path}</code>. <a href="/">Back to experiments</a>.</p></div>`;
  for (const [re, make] of ROUTES) {
    const m = path.match(re);
    if (m) {
      view = make(m);
      break;
    }
  }
  const section = path.startsWith('/models') ? 'models' : 'experiments';
  return html`
    <header class="top">
      <a class="brand" href="/">trainlab</a>
      <nav>
        <a href="/" class=${section === 'experiments' ? 'active' : ''}>Experiments</a>
        <a href="/models" class=${section === 'models' ? 'active' : ''}>Models</a>
      </nav>
    </header>
    <main key=${loc.split('?')[0]}>${view}</main>`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
