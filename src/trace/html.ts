// One self-contained HTML page for a trace: the swim lane, a step slider that shows the machine
// state after each step, and the violation highlighted. No network: everything is inline.
import type { TraceFile } from './format.js';
import type { TraceReplay } from './replay.js';
import { explain } from './render.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

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
  const data = JSON.stringify(replay.snapshots).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mmcheck trace: ${esc(trace.model)}/${esc(trace.variant)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table.lane{border-collapse:collapse;margin:1em 0}
table.lane td,table.lane th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;min-width:10em;max-width:18em}
td.n,table.lane th:first-child{min-width:2em;width:2em;text-align:right;color:#666}
tr.current{background:#fff6c8}
tr.violation td.op{background:#ffd6d6}
.note{color:#555;font-size:12px}
#verdict{background:#ffd6d6;border:1px solid #c33;padding:8px;white-space:pre-wrap}
.main{display:flex;gap:1.5em;align-items:flex-start}
#side{position:sticky;top:0;flex:1;min-width:22em}
#side h2{font-size:16px;margin:1em 0 .5em}
#state{background:#f4f4f4;padding:8px;white-space:pre;font:12px monospace;max-height:90vh;overflow:auto}
</style></head><body>
<h1>${esc(trace.model)} / ${esc(trace.variant)}</h1>
<p>params ${esc(JSON.stringify(trace.params))} · ${trace.schedule.length} steps · ${trace.preemptions} preemptions</p>
<div id="verdict">${esc(verdict)}</div>
<p><label>step <input id="slider" type="range" min="0" max="${replay.trace.length}" value="0"> <span id="stepno">0</span> / ${replay.trace.length}</label></p>
<div class="main">
<table class="lane"><thead><tr><th>#</th>${head}</tr></thead><tbody>
${rows}
</tbody></table>
<div id="side"><h2>Machine state after step <span id="statestep">0</span></h2>
<div id="state"></div></div>
</div>
<script>
const snapshots = ${data};
const slider = document.getElementById('slider');
function show(n) {
  slider.value = String(n);
  document.getElementById('stepno').textContent = String(n);
  document.getElementById('statestep').textContent = String(n);
  document.querySelectorAll('tr.current').forEach((r) => r.classList.remove('current'));
  const row = document.getElementById('row' + n);
  if (row) row.classList.add('current');
  const s = snapshots[n];
  document.getElementById('state').textContent = s === undefined || s === null ? '(the model gives no state snapshot)' : JSON.stringify(s, null, 2);
}
slider.addEventListener('input', () => show(Number(slider.value)));
document.querySelectorAll('tr[data-step]').forEach((r) => r.addEventListener('click', () => show(Number(r.dataset.step))));
show(0);
</script>
</body></html>
`;
}
