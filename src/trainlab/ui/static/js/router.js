// Readable addresses for every view: history.pushState, and same-origin links handled in-page.
import { decode, useEffect, useState } from './lib.js';

// MLflow's UI addresses (hash routes), which the mlflow client prints ("View run at ..."):
// the same view here, or null for other addresses.
export function fromMlflowHash(hash) {
  const m = /^#\/([^?]*)(?:\?(.*))?$/.exec(hash);
  if (!m) return null;
  const parts = m[1].split('/').filter(Boolean).map(decode);
  const enc = encodeURIComponent;
  const tabs = { 'model-metrics': 'metrics', 'system-metrics': 'system', artifacts: 'artifacts' };
  if (parts[0] === 'experiments' && parts[1]) {
    if (parts[2] === 'runs' && parts[3]) {
      const tab = tabs[parts[4]];
      return `/runs/${enc(parts[3])}${tab ? `?tab=${tab}` : ''}`;
    }
    return `/experiments/${enc(parts[1])}`;
  }
  if (parts[0] === 'models') return parts[1] ? `/models/${enc(parts[1])}` : '/models';
  if (parts[0] === 'compare-runs') {
    try {
      const runs = JSON.parse(new URLSearchParams(m[2] || '').get('runs') || '[]');
      if (Array.isArray(runs) && runs.length) return `/compare?runs=${runs.map(enc).join(',')}`;
    } catch (e) { /* not MLflow's list: the experiments page */ }
  }
  return parts.length ? '/' : null;
}

function followMlflowHash() {
  const mapped = location.pathname === '/' ? fromMlflowHash(location.hash) : null;
  if (mapped) navigate(mapped, true);
}

export function navigate(url, replace = false) {
  history[replace ? 'replaceState' : 'pushState'](null, '', url);
  window.dispatchEvent(new Event('trainlab:navigate'));
}

// Opened at an MLflow address, or given one while on this page (a pasted link).
followMlflowHash();
window.addEventListener('hashchange', followMlflowHash);

// Same-origin links move within the app without a reload.
document.addEventListener('click', (e) => {
  const a = e.target.closest('a');
  if (!a || a.target || a.hasAttribute('download') || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/get-artifact') || url.pathname.startsWith('/static')) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});

export function useLocation() {
  const [loc, setLoc] = useState(location.pathname + location.search);
  useEffect(() => {
    const update = () => setLoc(location.pathname + location.search);
    window.addEventListener('popstate', update);
    window.addEventListener('trainlab:navigate', update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener('trainlab:navigate', update);
    };
  }, []);
  return loc;
}

