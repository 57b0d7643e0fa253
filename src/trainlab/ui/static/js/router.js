// Readable addresses for every view: history.pushState, and same-origin links handled in-page.
import { useEffect, useState } from './lib.js';

export function navigate(url, replace = false) {
  history[replace ? 'replaceState' : 'pushState'](null, '', url);
  window.dispatchEvent(new Event('trainlab:navigate'));
}

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

