/**
 * The report as one self-contained HTML file: tables, and a line chart per numeric register drawn by
 * uPlot (inlined, so the page works offline). Frame numbers are Wireshark's.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { profileReasons, sessionRows, SESSION_HEAD, type RegisterStats, type Report } from './index.js';
import { readoutDeviceSummary, readoutDeviceTitle } from './readout.js';
import { isoTimeMs } from '../output/time.js';

const require = createRequire(import.meta.url);
const uplotDir = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const h4 = (n: number) => '0x' + n.toString(16).toUpperCase().padStart(4, '0');
const show = (v: unknown): string => (v === undefined ? '' : v === null ? 'n/a' : typeof v === 'object' ? JSON.stringify(v) : String(v));
/** JSON inside <script>: `</script>` and friends cannot close the tag. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

interface ChartSpec {
  id: string;
  title: string;
  unit: string;
  /** [unix s, value]; null breaks the line. */
  points: [number, number | null][];
  status: boolean;
  labels: Record<string, string>;
  /** Axis ranges when uPlot's own would be useless (a single reading spans years otherwise). */
  xRange?: [number, number];
  yRange?: [number, number];
}

/** What the page needs to draw one register: points in seconds, and fixed ranges for a single reading. */
export function chartSpec(id: string, s: RegisterStats): ChartSpec {
  const points = s.points.map(([ms, v]) => [ms / 1000, v] as [number, number | null]);
  const spec: ChartSpec = { id, title: `${h4(s.register)} ${s.name ?? ''}`.trim(), unit: s.unit ?? '', points, status: s.status, labels: s.labels };
  const real = points.filter((p) => p[1] !== null) as [number, number][];
  if (real.length === 1 || (real.length > 1 && real.every((p) => p[0] === real[0]![0]))) {
    const t = real[0]![0];
    spec.xRange = [t - 60, t + 60];
  }
  if (real.length && real.every((p) => p[1] === real[0]![1])) {
    const v = real[0]![1];
    const d = Math.max(1, Math.abs(v) * 0.1);
    spec.yRange = [v - d, v + d];
  }
  return spec;
}

export function reportToHtml(r: Report): string {
  const js = readFileSync(path.join(uplotDir, 'uPlot.iife.min.js'), 'utf8');
  const css = readFileSync(path.join(uplotDir, 'uPlot.min.css'), 'utf8');
  const charts: ChartSpec[] = [];
  const body: string[] = [];
  body.push(`<h1>victron-gatt report</h1><p class="meta">${esc(r.capture)} (${esc(r.format)}), generated ${esc(r.generated)}</p>`);
  if (r.connections.length === 0) body.push(r.instantReadout?.length ? '<p>No Victron GATT traffic in this capture (advertisements only).</p>' : '<p>No Victron traffic found in this capture.</p>');
  r.connections.forEach((c, ci) => {
    body.push(`<section class="connection"><h2>Device ${esc(c.device ?? `(address unknown, connection 0x${c.connection.toString(16).padStart(4, '0')})`)} <span class="profile">${esc(c.profile ?? '')}</span></h2>`);
    body.push(`<p>${c.sessions.length} session(s), in total ${c.counts.message} messages, ${c.counts.control} control, <span class="${c.counts.unknown ? 'unknown' : ''}">${c.counts.unknown} unknown</span>, ${c.counts.padding} padding.</p>`);
    for (const why of profileReasons(c)) body.push(`<p class="why">${esc(why)}</p>`);
    if (c.sessions.length) {
      body.push(`<table class="sessions"><tr>${SESSION_HEAD.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`);
      const rows = sessionRows(c);
      c.sessions.forEach((s, i) => body.push(`<tr data-session="${s.session ?? ''}"${s.counts.unknown ? ' class="unknown"' : ''}>${rows[i]!.map((x) => `<td>${esc(x)}</td>`).join('')}</tr>`));
      body.push('</table>');
    }
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
        charts.push(chartSpec(id, s));
        body.push(`<figure class="chart${s.status ? ' status' : ''}" id="${id}" data-register="${h4(s.register)}" data-points="${s.points.length}" data-breaks="${s.breaks}">`);
        if (s.status && s.changes.length) {
          // Status-like registers: the step chart above, and when each value began.
          body.push(`<details class="changes"><summary>${s.changes.length}${s.changesOmitted ? '+' : ''} value change(s)</summary><table class="changes"><tr><th>time (UTC)</th><th>frame</th><th>value</th></tr>`);
          for (const x of s.changes) body.push(`<tr><td>${esc(isoTimeMs(x.ms).slice(0, 23).replace('T', ' '))}</td><td>${x.frame}</td><td>${esc(x.text ?? x.value)}</td></tr>`);
          if (s.changesOmitted) body.push(`<tr><td colspan="3">… and ${s.changesOmitted} more</td></tr>`);
          body.push('</table></details>');
        }
        body.push('</figure>');
      });
      body.push('</div>');
    }
    body.push('</section>');
  });
  if (r.instantReadout?.length) {
    body.push('<section class="instant-readout"><h2>Instant Readout (advertisements)</h2>');
    r.instantReadout.forEach((d, di) => {
      body.push(`<h3 data-device="${esc(d.device)}">${esc(readoutDeviceTitle(d))}</h3><p class="${d.decoded ? '' : 'unknown'}">${esc(readoutDeviceSummary(d))}</p>`);
      if (!d.fields.length) return;
      body.push('<table class="readout"><tr><th>field</th><th>unit</th><th>readings</th><th>first</th><th>last</th><th>min</th><th>max</th></tr>');
      for (const f of d.fields) body.push(`<tr data-field="${esc(f.id)}"><td>${esc(f.name)}</td><td>${esc(f.unit)}</td><td>${f.count}</td><td>${esc(f.first)}</td><td>${esc(f.last)}</td><td>${esc(show(f.min))}</td><td>${esc(show(f.max))}</td></tr>`);
      body.push('</table><div class="charts">');
      for (const f of d.fields.filter((x) => x.points.some((p) => p[1] !== null))) {
        const id = `readout-${di}-${f.id}`;
        const spec: ChartSpec = { id, title: f.name, unit: f.unit ?? '', points: f.points.map(([ms, v]) => [ms / 1000, v] as [number, number | null]), status: f.kind === 'enum', labels: f.labels };
        const real = spec.points.filter((p) => p[1] !== null) as [number, number][];
        if (real.every((p) => p[0] === real[0]![0])) spec.xRange = [real[0]![0] - 60, real[0]![0] + 60];
        if (real.every((p) => p[1] === real[0]![1])) spec.yRange = [real[0]![1] - Math.max(1, Math.abs(real[0]![1]) * 0.1), real[0]![1] + Math.max(1, Math.abs(real[0]![1]) * 0.1)];
        charts.push(spec);
        body.push(`<figure class="chart${spec.status ? ' status' : ''}" id="${id}" data-field="${esc(f.id)}" data-points="${f.points.length}"></figure>`);
      }
      body.push('</div>');
      for (const f of d.fields.filter((x) => x.changes.length > 1)) {
        body.push(`<details class="changes"><summary>${esc(f.name)}: ${f.changes.length}${f.changesOmitted ? '+' : ''} value change(s)</summary><table class="changes"><tr><th>time (UTC)</th><th>frame</th><th>value</th></tr>`);
        for (const x of f.changes) body.push(`<tr><td>${esc(isoTimeMs(x.ms).slice(0, 23).replace('T', ' '))}</td><td>${x.frame}</td><td>${esc(x.text)}</td></tr>`);
        body.push('</table></details>');
      }
    });
    body.push('</section>');
  }
  if (r.issues.length) {
    body.push('<section><h2 class="unknown">Unknown bytes and warnings</h2><table class="issues"><tr><th>frame</th><th>what</th><th>detail</th><th>bytes</th></tr>');
    for (const i of r.issues) body.push(`<tr class="unknown"><td>${i.frame ?? ''}</td><td>${esc(i.kind)}</td><td>${esc(i.message)}</td><td><code>${esc(i.hex ?? '')}</code></td></tr>`);
    if (r.issuesOmitted) body.push(`<tr><td colspan="4">… and ${r.issuesOmitted} more</td></tr>`);
    body.push('</table></section>');
  }
  const style = `body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}th{background:#f2f2f2}
.unknown{background:#fff3cd}details.changes{font-size:12px;max-width:480px}h2 .profile{font-size:60%;color:#666}.meta{color:#666}.charts{display:flex;flex-wrap:wrap;gap:1em}figure.chart{margin:0}code{font-size:12px}`;
  const script = `window.vgattCharts = ${scriptJson(charts)};
window.vgattPlots = [];
for (const c of window.vgattCharts) {
  const el = document.getElementById(c.id);
  const xs = c.points.map(p => p[0]), ys = c.points.map(p => p[1]);
  const few = ys.filter(y => y !== null).length < 60;
  const series = { label: c.unit || 'value', stroke: '#1f77b4', width: 1.5, spanGaps: false, points: { show: few, size: 6 } };
  if (c.status) series.paths = uPlot.paths.stepped({ align: 1 });
  const x = { time: true }, y = {};
  if (c.xRange) { x.auto = false; x.range = () => c.xRange; }
  if (c.yRange) { y.auto = false; y.range = () => c.yRange; }
  const axes = [{}, c.status && Object.keys(c.labels).length ? { size: 110, values: (u, vals) => vals.map(v => c.labels[v] ?? (Number.isInteger(v) ? v : '')) } : {}];
  const entry = { id: c.id, series: 1, points: xs.length, status: c.status, gaps: ys.filter(v => v === null).length };
  // uPlot sets its scales when it draws (after a microtask): record the drawn x span then.
  const hooks = { draw: [u => { entry.xSpan = u.scales.x.max - u.scales.x.min; }] };
  const plot = new uPlot({ title: c.title, width: 480, height: 220, series: [{}, series], scales: { x, y }, axes, hooks }, [xs, ys], el.insertBefore(document.createElement('div'), el.firstChild));
  entry.series = plot.series.length - 1;
  window.vgattPlots.push(entry);
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
