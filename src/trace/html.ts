// One self-contained HTML page for a trace: the swim lane beside the machine state after the
// chosen step (state-view.ts: TLBs, page tables, struct pages, every changed value marked), a
// step slider and keys (←/→, j/k, Home/End) that keep the current row in view, the lane header
// sticky, and the violation highlighted. No network: everything is inline.
import { type TraceFile, traceMemoryModel } from './format.js';
import type { TraceReplay } from './replay.js';
import { snapshotChanges } from './diff.js';
import { explain } from './render.js';
import { esc, stateHtml } from './state-view.js';

const STYLE = `
*{box-sizing:border-box}
body{font:13px/1.35 system-ui,sans-serif;margin:0 12px;color:#222}
h1{font-size:18px;margin:10px 0 2px}
h2{font-size:14px;margin:12px 0 4px}
h3{font-size:13px;margin:0 0 2px}
#bar{position:sticky;top:0;z-index:3;background:#fff;padding:6px 0;border-bottom:1px solid #ddd}
#bar input{width:min(40em,60%);vertical-align:middle}
.keys{color:#666;font-size:12px}
#verdict{background:#ffd6d6;border:1px solid #c33;padding:6px 8px;white-space:pre-wrap;margin:6px 0}
.main{display:grid;grid-template-columns:minmax(0,1fr) minmax(380px,0.9fr);gap:12px;align-items:start;margin-top:8px}
#lanewrap,#side{max-height:calc(100vh - 60px);overflow:auto;border:1px solid #ddd}
table.lane{border-collapse:collapse;table-layout:fixed;width:100%}
table.lane th{position:sticky;top:0;z-index:2;background:#eef;border:1px solid #ccc;padding:4px;overflow-wrap:anywhere}
table.lane td{border:1px solid #ddd;padding:3px 4px;vertical-align:top;overflow-wrap:anywhere;font-size:12px}
table.lane .n{width:3em;text-align:right;color:#666}
table.lane tr{cursor:pointer}
tr.current td{background:#fff2a8}
tr.violation td.op{background:#ffd6d6}
tr.current.violation td.op{background:#ffb0a0}
.note{color:#555;font-size:11px}
#side{padding:6px 8px}
#changes{font:12px monospace;color:#333;margin:0 0 6px;padding-left:1.2em}
.cpus{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:8px}
.cpu{border:1px solid #ccd;padding:4px 6px;border-radius:4px}
.facts{margin:0 0 4px;color:#444;font-size:12px}
table.grid,table.kv{border-collapse:collapse;font:12px monospace;margin-bottom:4px}
table.grid td,table.grid th,table.kv td,table.kv th{border:1px solid #ccc;padding:2px 5px;text-align:left;vertical-align:top}
table.grid thead th,table.kv th{background:#f2f2f2;font-weight:600}
td.none{color:#999}
.changed{background:#ffe066 !important;outline:2px solid #e0a800}
tr.stale td{color:#a00}
tr.stale td:last-child{font-weight:700}
.item{display:inline-block;margin-right:6px}
.empty{color:#888;margin:0}
`;

// Step n shows state n (after step n; 0 is the initial state) and marks row n.
const SCRIPT = `
const views = JSON.parse(document.getElementById('views').textContent);
const changes = JSON.parse(document.getElementById('changelists').textContent);
const slider = document.getElementById('slider');
const last = views.length - 1;
let current = 0;
// Scrolls only the lane pane (scrollIntoView would scroll the page too), and keeps the row clear
// of the sticky header, which would otherwise cover a row scrolled to the top.
function keepInView(row) {
  const wrap = document.getElementById('lanewrap');
  const r = row.getBoundingClientRect();
  const w = wrap.getBoundingClientRect();
  const top = w.top + wrap.querySelector('thead').getBoundingClientRect().height;
  if (r.top < top) wrap.scrollTop -= top - r.top;
  else if (r.bottom > w.bottom) wrap.scrollTop += Math.min(r.bottom - w.bottom, r.top - top);
}
function show(n) {
  current = Math.max(0, Math.min(last, n));
  slider.value = String(current);
  document.getElementById('stepno').textContent = String(current);
  document.getElementById('statestep').textContent = String(current);
  document.querySelectorAll('tr.current').forEach((r) => r.classList.remove('current'));
  const row = document.getElementById('row' + current);
  if (row) {
    row.classList.add('current');
    keepInView(row);
  }
  document.getElementById('state').innerHTML = views[current];
  const list = document.getElementById('changes');
  list.innerHTML = '';
  for (const c of changes[current]) {
    const li = document.createElement('li');
    li.textContent = c;
    list.appendChild(li);
  }
}
slider.addEventListener('input', () => show(Number(slider.value)));
document.querySelectorAll('tr[data-step]').forEach((r) => r.addEventListener('click', () => show(Number(r.dataset.step))));
document.addEventListener('keydown', (e) => {
  const to = { ArrowRight: current + 1, j: current + 1, ArrowLeft: current - 1, k: current - 1, Home: 0, End: last }[e.key];
  if (to === undefined || e.altKey || e.ctrlKey || e.metaKey) return;
  e.preventDefault(); // the slider would also move on its own arrow keys
  show(to);
});
show(0);
`;

/** JSON inside a <script type="application/json">: nothing in it can close the element. */
const scriptJson = (x: unknown) => JSON.stringify(x).replace(/</g, '\\u003c');

export function renderHtml(trace: TraceFile, replay: TraceReplay): string {
  const lanes = [...new Set(replay.trace.map((s) => s.tid))].sort((a, b) => a - b);
  const head = lanes.map((t) => `<th>${esc(replay.threads[t] ?? `t${t}`)}</th>`).join('');
  const rows = replay.trace
    .map((s, i) => {
      const cells = lanes.map((t) => (t === s.tid ? `<td class="op">${esc(s.label)}${s.note ? `<div class="note">${esc(s.note)}</div>` : ''}</td>` : '<td></td>')).join('');
      const last = i === replay.trace.length - 1 ? ' class="violation"' : '';
      return `<tr id="row${i + 1}" data-step="${i + 1}"${last}><td class="n">${i + 1}</td>${cells}</tr>`;
    })
    .join('\n');
  const verdict = replay.failure ? explain(replay.failure, replay.trace.length) : 'no violation';
  const snaps = replay.snapshots;
  const count = Math.max(snaps.length, 1);
  const views = Array.from({ length: count }, (_, n) => stateHtml(snaps[n], n > 0 ? snaps[n - 1] : undefined, n));
  const changeLists = Array.from({ length: count }, (_, n) => (n > 0 && snaps[n] !== undefined ? snapshotChanges(snaps[n - 1], snaps[n]) : []));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mmcheck trace: ${esc(trace.model)}/${esc(trace.variant)}</title>
<style>${STYLE}</style></head><body>
<h1>${esc(trace.model)} / ${esc(trace.variant)}</h1>
<div>params ${esc(JSON.stringify(trace.params))} · ${trace.schedule.length} steps · ${trace.preemptions} preemptions</div>${traceMemoryModel(trace) === 'tso' ? '\n<div id="memory-model">memory model: x86-TSO (store buffers)</div>' : ''}
<div id="verdict">${esc(verdict)}</div>
<div id="bar"><label>step <input id="slider" type="range" min="0" max="${count - 1}" value="0"> <span id="stepno">0</span> / ${count - 1}</label>
<span class="keys">keys: ← → or j k step, Home End; click a row</span></div>
<div class="main">
<div id="lanewrap"><table class="lane"><thead><tr><th class="n">#</th>${head}</tr></thead><tbody>
${rows}
</tbody></table></div>
<div id="side"><h2>Machine state after step <span id="statestep">0</span></h2>
<ul id="changes"></ul>
<div id="state"></div></div>
</div>
<script type="application/json" id="views">${scriptJson(views)}</script>
<script type="application/json" id="changelists">${scriptJson(changeLists)}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}
