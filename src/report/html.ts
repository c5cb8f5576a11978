/**
 * The report as one self-contained HTML file: tables, and a line chart per numeric register drawn by
 * uPlot (inlined, so the page works offline). Frame numbers are Wireshark's.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Report } from './index.js';

const require = createRequire(import.meta.url);
const uplotDir = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const h4 = (n: number) => '0x' + n.toString(16).toUpperCase().padStart(4, '0');
const show = (v: unknown): string => (v === undefined ? '' : v === null ? 'n/a' : typeof v === 'object' ? JSON.stringify(v) : String(v));
/** JSON inside <script>: `</script>` and friends cannot close the tag. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

export function reportToHtml(r: Report): string {
  const js = readFileSync(path.join(uplotDir, 'uPlot.iife.min.js'), 'utf8');
  const css = readFileSync(path.join(uplotDir, 'uPlot.min.css'), 'utf8');
  const charts: { id: string; title: string; unit: string; points: [number, number][] }[] = [];
  const body: string[] = [];
  body.push(`<h1>victron-gatt report</h1><p class="meta">${esc(r.capture)} (${esc(r.format)}), generated ${esc(r.generated)}</p>`);
  if (r.connections.length === 0) body.push('<p>No Victron traffic found in this capture.</p>');
  r.connections.forEach((c, ci) => {
    body.push(`<section class="connection"><h2>Connection 0x${c.connection.toString(16).padStart(4, '0')} ${esc(c.device ?? '(address unknown)')} <span class="profile">${esc(c.profile ?? '')}</span></h2>`);
    body.push(`<p>Frames ${c.firstFrame}–${c.lastFrame}: ${c.counts.message} messages, ${c.counts.control} control, <span class="${c.counts.unknown ? 'unknown' : ''}">${c.counts.unknown} unknown</span>, ${c.counts.padding} padding.</p>`);
    if (c.gatt && c.gatt.services.length) {
      body.push('<details><summary>GATT layout</summary><table class="gatt"><tr><th>handle</th><th>UUID</th><th>properties</th></tr>');
      for (const s of c.gatt.services) {
        body.push(`<tr class="service"><td>${h4(s.startHandle)}</td><td colspan="2">service ${esc(s.uuid)}</td></tr>`);
        for (const ch of s.characteristics) body.push(`<tr><td>${h4(ch.valueHandle)}</td><td>${esc(ch.uuid)}</td><td>${esc(ch.propertyNames.join(', '))}</td></tr>`);
      }
      body.push('</table></details>');
    }
    if (c.registers.length) {
      body.push('<table class="registers"><tr><th>register</th><th>name</th><th>unit</th><th>readings</th><th>first</th><th>last</th><th>min</th><th>max</th></tr>');
      for (const s of c.registers) body.push(`<tr data-register="${h4(s.register)}"><td>${h4(s.register)}</td><td>${esc(s.name)}</td><td>${esc(s.unit)}</td><td>${s.count}</td><td>${esc(show(s.first))}</td><td>${esc(show(s.last))}</td><td>${esc(show(s.min))}</td><td>${esc(show(s.max))}</td></tr>`);
      body.push('</table>');
    }
    if (c.unknownRegisters.length) {
      body.push('<h3 class="unknown">Unknown registers</h3><table class="unknown-registers"><tr><th>register</th><th>readings</th><th>sizes</th><th>sample raw values</th></tr>');
      for (const s of c.unknownRegisters) body.push(`<tr class="unknown" data-register="${h4(s.register)}"><td>${h4(s.register)}</td><td>${s.count}</td><td>${esc(s.sizes.join(', '))}</td><td><code>${esc(s.samples.join(' '))}</code></td></tr>`);
      body.push('</table>');
    }
    const numeric = c.registers.filter((s) => s.points.length > 0);
    if (numeric.length) {
      body.push('<div class="charts">');
      numeric.forEach((s) => {
        const id = `chart-${ci}-${s.register.toString(16)}`;
        charts.push({ id, title: `${h4(s.register)} ${s.name ?? ''}`, unit: s.unit ?? '', points: s.points });
        body.push(`<figure class="chart" id="${id}" data-register="${h4(s.register)}" data-points="${s.points.length}"></figure>`);
      });
      body.push('</div>');
    }
    body.push('</section>');
  });
  if (r.issues.length) {
    body.push('<section><h2 class="unknown">Unknown bytes and warnings</h2><table class="issues"><tr><th>frame</th><th>what</th><th>detail</th><th>bytes</th></tr>');
    for (const i of r.issues) body.push(`<tr class="unknown"><td>${i.frame ?? ''}</td><td>${esc(i.kind)}</td><td>${esc(i.message)}</td><td><code>${esc(i.hex ?? '')}</code></td></tr>`);
    if (r.issuesOmitted) body.push(`<tr><td colspan="4">… and ${r.issuesOmitted} more</td></tr>`);
    body.push('</table></section>');
  }
  const style = `body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}th{background:#f2f2f2}
.unknown{background:#fff3cd}h2 .profile{font-size:60%;color:#666}.meta{color:#666}.charts{display:flex;flex-wrap:wrap;gap:1em}figure.chart{margin:0}code{font-size:12px}`;
  const script = `window.vgattCharts = ${scriptJson(charts)};
window.vgattPlots = [];
for (const c of window.vgattCharts) {
  const el = document.getElementById(c.id);
  const xs = c.points.map(p => p[0] / 1000), ys = c.points.map(p => p[1]);
  const plot = new uPlot({ title: c.title, width: 480, height: 220, series: [{}, { label: c.unit || 'value', stroke: '#1f77b4', width: 1.5 }], scales: { x: { time: true } } }, [xs, ys], el);
  window.vgattPlots.push({ id: c.id, series: plot.series.length - 1, points: xs.length });
}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>victron-gatt report: ${esc(path.basename(r.capture))}</title>
<style>${css}
${style}</style></head><body>
${body.join('\n')}
<script>${js}</script>
<script>${script}</script>
</body></html>
`;
}
