import type { Row } from './scenarios.ts';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A small horizontal bar chart of the ratios, with the target of each row as a tick. */
export function svgChart(rows: Row[], title: string): string {
  const shown = rows.filter((r) => r.ratio !== null);
  const barH = 22;
  const gap = 10;
  const left = 380;
  const width = 820;
  const scaleMax = Math.max(1.2, ...shown.map((r) => r.ratio ?? 0)) * 1.05;
  const x = (v: number): number => left + ((width - left - 90) * v) / scaleMax;
  const height = 60 + shown.length * (barH + gap) + 30;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${x(1)}" y1="36" x2="${x(1)}" y2="${height - 30}" stroke="#999" stroke-dasharray="4 3"/>`,
    `<text x="${x(1) + 3}" y="${height - 16}" fill="#666">1× (baseline)</text>`,
  ];
  shown.forEach((r, i) => {
    const y = 44 + i * (barH + gap);
    const color = r.ok === true ? '#2e7d32' : r.ok === false ? '#c62828' : '#757575';
    parts.push(`<text x="10" y="${y + 15}">${esc(r.scenario.length > 58 ? r.scenario.slice(0, 57) + '…' : r.scenario)}</text>`);
    parts.push(`<rect x="${left}" y="${y}" width="${Math.max(1, x(r.ratio!) - left)}" height="${barH}" fill="${color}"/>`);
    if (r.ratioMin !== undefined && r.ratioMax !== undefined) parts.push(`<line x1="${x(r.ratioMin)}" y1="${y + barH / 2}" x2="${x(r.ratioMax)}" y2="${y + barH / 2}" stroke="#000" stroke-width="1.5"/>`);
    const range = r.ratioMin !== undefined && r.ratioMax !== undefined ? ` [${r.ratioMin.toFixed(2)}–${r.ratioMax.toFixed(2)}]` : '';
    parts.push(`<text x="${x(Math.max(r.ratio!, r.ratioMax ?? 0)) + 4}" y="${y + 15}">${r.ratio!.toFixed(2)}×${range} (target ${esc(r.target)})</text>`);
    const t = /([0-9.]+)×/.exec(r.target);
    if (t) parts.push(`<line x1="${x(Number(t[1]))}" y1="${y - 2}" x2="${x(Number(t[1]))}" y2="${y + barH + 2}" stroke="#000" stroke-width="2"/>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

export function markdownTable(rows: Row[]): string {
  const lines = ['| scenario | measured | baseline (same run) | ratio (median of rounds, min–max) | target | met |', '|---|---:|---|---:|---|---|'];
  for (const r of rows) {
    if (r.skipped !== undefined) {
      lines.push(`| ${r.scenario} | skipped | ${r.baselineLabel} | – | ${r.target} | skipped: ${r.skipped} |`);
      continue;
    }
    const v = (n: number | null) => (n === null ? '–' : n >= 100 ? n.toFixed(0) : n.toFixed(1));
    const range = r.ratioMin !== undefined && r.ratioMax !== undefined ? ` (${r.ratioMin.toFixed(2)}–${r.ratioMax.toFixed(2)})` : '';
    lines.push(`| ${r.scenario} | ${v(r.measured)} ${r.unit} | ${r.baselineLabel}: ${v(r.baseline)} ${r.unit} | ${r.ratio === null ? '–' : r.ratio.toFixed(2) + '×' + range} | ${r.target} | ${r.ok === null ? '–' : r.ok ? 'yes' : 'NO'} |`);
  }
  return lines.join('\n');
}
