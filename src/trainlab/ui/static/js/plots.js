// Plots uPlot does not draw: parallel coordinates, a labelled scatter and horizontal bars, as SVG.
import { html } from './lib.js';
import { color, fmtNum } from './lib.js';
import { extent } from './charts.js';

// One axis per dimension: numeric axes are linear over their finite values (NaN and infinite
// values are left off them), logarithmic when positive over two orders of magnitude or more;
// any other values are spread as categories.
function axis(values) {
  const present = values.filter((v) => v !== undefined && v !== null && v !== '');
  // Python's str() of a float param: 'nan', 'inf', '-inf'; MLflow's metrics: 'NaN', 'Infinity'
  const numeric = (v) => typeof v === 'number' || /^(nan|[+-]?inf(inity)?)$/i.test(v) || !Number.isNaN(Number(v));
  const finite = present.map(Number).filter(Number.isFinite);
  if (finite.length && present.every(numeric)) {
    const [lo, hi] = extent(finite);
    const at = (v) => (v === undefined || v === null || v === '' || !Number.isFinite(Number(v)) ? null : Number(v));
    if (lo === hi) { // one value: in the middle, no made-up range
      return { pos: (v) => (at(v) === null ? null : 0.5), ticks: [[0.5, fmtNum(lo)]] };
    }
    if (lo > 0 && hi / lo >= 100) { // learning rates, regularisation: spread by order of magnitude
      const [a, b] = [Math.log(lo), Math.log(hi)];
      const pos = (v) => (at(v) === null || at(v) <= 0 ? null : (Math.log(at(v)) - a) / (b - a));
      return { pos, ticks: [[0, fmtNum(lo)], [1, fmtNum(hi)]], log: true };
    }
    const pos = (v) => (at(v) === null ? null : (at(v) - lo) / (hi - lo));
    return { pos, ticks: [[0, fmtNum(lo)], [1, fmtNum(hi)]] };
  }
  const cats = [...new Set(present.map(String))].sort();
  const at = (i) => (cats.length === 1 ? 0.5 : i / (cats.length - 1));
  return { pos: (v) => (cats.includes(String(v)) ? at(cats.indexOf(String(v))) : null), ticks: cats.slice(0, 12).map((c, i) => [at(i), c]) };
}

// A long label's end, where a name says most; a dotted name (a class path) keeps its last
// parts whole: …ensemble.RandomForestClassifier, not …andomForestClassifier.
const short = (s, n = 24) => {
  const t = String(s).replace(/^(params|metrics|tags)\./, '');
  if (t.length <= n) return t;
  const parts = t.split('.');
  let tail = parts.pop();
  while (parts.length && tail.length + parts[parts.length - 1].length + 2 <= n) tail = `${parts.pop()}.${tail}`;
  return `…${tail && tail.length <= n && tail !== t ? tail : t.slice(-(n - 1))}`;
};

// A run's line through its points [x, y], y null where it has no value: the line stops before
// that axis and starts again after it (a line across it would read as a value there); a point
// alone between gaps is a short dash.
function linePath(points) {
  const parts = [];
  let drawing = false;
  for (const [px, py] of points) {
    if (py === null) { drawing = false; continue; }
    parts.push(`${drawing ? 'L' : 'M'}${px} ${py}`);
    drawing = true;
  }
  // a point alone: a short dash at its value
  const alone = (i) => parts[i][0] === 'M' && (i === parts.length - 1 || parts[i + 1][0] === 'M');
  return parts.map((p, i) => (alone(i) ? `M${Number(p.slice(1).split(' ')[0]) - 4} ${p.split(' ')[1]} l8 0` : p)).join(' ');
}

// rows: [{id, label, values: {dim: value}, color}]; dims: names. A row's line has its color
// (a run's, as elsewhere on the page); without one, colorBy: a dim whose value shades it from
// blue (lowest) to red (highest), with a key saying so.
export function ParallelCoords({ rows, dims, colorBy, height = 320 }) {
  if (!dims.length || !rows.length) return html`<p class="muted">Nothing to plot: choose at least one axis.</p>`;
  const width = Math.max(480, dims.length * 150);
  const pad = { l: 70, r: 90, t: 44, b: 24 };
  const axes = dims.map((d) => axis(rows.map((r) => r.values[d])));
  const x = (i) => pad.l + (dims.length === 1 ? 0 : (i * (width - pad.l - pad.r)) / (dims.length - 1));
  const y = (p) => pad.t + (1 - p) * (height - pad.t - pad.b);
  const y0 = (p) => (p === null ? null : y(p));
  const shade = colorBy ? axis(rows.map((r) => r.values[colorBy])) : null;
  const hue = (p) => `hsl(${Math.round(240 - p * 240)}, 70%, 45%)`;
  const tint = (r) => {
    if (r.color) return r.color;
    if (!shade) return color(0);
    const p = shade.pos(r.values[colorBy]);
    return p === null ? '#bbb' : hue(p);
  };
  const shaded = shade && rows.some((r) => !r.color);
  return html`<div class="plot-wrap"><svg class="parallel" width=${width} height=${height} role="img" aria-label="Parallel coordinates">
    ${rows.map((r) => html`<path class="run" fill="none" stroke=${tint(r)} stroke-opacity="0.6"
        stroke-width="1.4" stroke-linecap="round" d=${linePath(dims.map((d, i) => [x(i), y0(axes[i].pos(r.values[d]))]))}><title>${r.label}</title></path>`)}
    ${dims.map((d, i) => html`<g>
      <line x1=${x(i)} x2=${x(i)} y1=${pad.t} y2=${height - pad.b} stroke="#444" />
      <text x=${x(i)} y=${pad.t - (i % 2 ? 10 : 26)} text-anchor="middle" class="axis-title">${short(d)}${axes[i].log ? ' (log)' : ''}<title>${d}</title></text>
      ${axes[i].ticks.map(([p, label]) => html`<text x=${x(i) + 4} y=${y(p) + 4} class="tick">${short(label, 22)}</text>`)}
    </g>`)}
  </svg>${shaded ? html`<p class="muted color-key">Lines shaded by ${short(colorBy, 40)}:
    <span style=${`color:${hue(0)}`}>■</span> lowest … <span style=${`color:${hue(1)}`}>■</span> highest${rows.some((r) => shade.pos(r.values[colorBy]) === null) ? html`, <span style="color:#bbb">■</span> none` : ''}</p>` : ''}</div>`;
}

// An axis's labels: the lowest and highest value (one, for one value), where those points are.
const ticks = (values) => [...new Set(extent(values))];

// points: [{x, y, label, highlight}]
export function Scatter({ points, xLabel, yLabel, width = 560, height = 360, line }) {
  const ok = points.filter((p) => Number.isFinite(Number(p.x)) && Number.isFinite(Number(p.y)));
  if (!ok.length) return html`<p class="muted">No runs have both ${xLabel} and ${yLabel} as numbers.</p>`;
  const pad = { l: 64, r: 16, t: 12, b: 40 };
  const xs = ok.map((p) => Number(p.x));
  const ys = ok.map((p) => Number(p.y));
  const span = (a) => {
    let [lo, hi] = extent(a);
    if (lo === hi) { const d = Math.abs(lo) * 0.1 || 1; lo -= d; hi += d; } // one value: ±10%
    const m = (hi - lo) * 0.05; // a margin, so points on the edge show whole
    return [lo - m, hi + m];
  };
  const [x0, x1] = span(xs);
  const [y0, y1] = span(ys);
  const sx = (v) => pad.l + ((v - x0) / (x1 - x0)) * (width - pad.l - pad.r);
  const sy = (v) => height - pad.b - ((v - y0) / (y1 - y0)) * (height - pad.t - pad.b);
  return html`<svg class="scatter" width=${width} height=${height} role="img" aria-label=${`${yLabel} against ${xLabel}`}>
    <rect x=${pad.l} y=${pad.t} width=${width - pad.l - pad.r} height=${height - pad.t - pad.b} fill="#fafbfc" stroke="#ddd" />
    ${line ? html`<polyline fill="none" stroke="#2ca02c" stroke-width="2" points=${line.map(([a, b]) => `${sx(a)},${sy(b)}`).join(' ')} />` : ''}
    ${ok.map((p) => html`<circle cx=${sx(Number(p.x))} cy=${sy(Number(p.y))} r=${p.highlight ? 6 : 4}
      fill=${p.color || color(0)} fill-opacity="0.75" stroke=${p.highlight ? '#000' : 'none'}><title>${p.label}: ${fmtNum(p.x)}, ${fmtNum(p.y)}</title></circle>`)}
    ${ticks(xs).map((v, i, all) => html`<text x=${sx(v)} y=${height - 22} class="tick"
      text-anchor=${all.length === 1 ? 'middle' : i ? 'end' : 'start'}>${fmtNum(v)}</text>`)}
    <text x=${(pad.l + width - pad.r) / 2} y=${height - 6} text-anchor="middle" class="axis-title">${xLabel}</text>
    ${ticks(ys).map((v) => html`<text x=${pad.l - 6} y=${sy(v) + 4} class="tick" text-anchor="end">${fmtNum(v)}</text>`)}
    <text transform=${`translate(14 ${(pad.t + height - pad.b) / 2}) rotate(-90)`} text-anchor="middle" class="axis-title">${yLabel}</text>
  </svg>`;
}

// items: [[label, value]], values in 0..1 of the largest
export function Bars({ items }) {
  if (!items.length) return html`<p class="muted">Nothing to show.</p>`;
  const top = extent(items.map(([, v]) => v))[1] || 1;
  return html`<table class="bars"><tbody>${items.map(([label, v]) => html`<tr>
    <th>${label}</th><td><div class="bar" style=${`width:${(100 * v) / top}%`}></div></td><td class="num">${fmtNum(v)}</td>
  </tr>`)}</tbody></table>`;
}
