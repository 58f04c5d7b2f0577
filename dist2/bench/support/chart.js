const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
function niceStep(max) {
    const raw = max / 5;
    const p = 10 ** Math.floor(Math.log10(raw));
    return [1, 2, 2.5, 5, 10].map((m) => m * p).find((s) => s >= raw);
}
export function lineChart(o) {
    const W = 760, H = 440, L = 80, R = 230, T = 40, B = 50;
    const xs = o.series.flatMap((s) => s.points.map((p) => p[0]));
    // The axis fits the data; a reference far above it is named in the legend instead of drawn.
    const ys = o.series.flatMap((s) => s.points.map((p) => p[1]));
    const x0 = Math.log2(Math.min(...xs)), x1 = Math.log2(Math.max(...xs));
    const step = niceStep(Math.max(...ys) * 1.05);
    const yMax = Math.ceil((Math.max(...ys) * 1.05) / step) * step;
    const px = (x) => L + ((Math.log2(x) - x0) / Math.max(1e-9, x1 - x0)) * (W - L - R);
    const py = (y) => H - B - (y / yMax) * (H - T - B);
    const out = [
        `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
        `<rect width="${W}" height="${H}" fill="white"/>`,
        `<text x="${W / 2 - R / 2}" y="22" text-anchor="middle" font-size="15">${esc(o.title)}</text>`,
    ];
    for (let y = 0; y <= yMax + 1e-9; y += step) {
        out.push(`<line x1="${L}" x2="${W - R}" y1="${py(y)}" y2="${py(y)}" stroke="#ddd"/>`);
        out.push(`<text x="${L - 6}" y="${py(y) + 4}" text-anchor="end">${y >= 1000 ? `${y / 1000}k` : y}</text>`);
    }
    for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
        out.push(`<text x="${px(x)}" y="${H - B + 18}" text-anchor="middle">${x}</text>`);
    }
    out.push(`<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="black"/>`);
    out.push(`<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="black"/>`);
    out.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">${esc(o.xLabel)}</text>`);
    out.push(`<text transform="translate(18 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
    let legendY = T + 10;
    const fmt = (y) => (y >= 1e6 ? `${(y / 1e6).toFixed(2)}M` : y >= 1000 ? `${Math.round(y / 1000)}k` : String(y));
    for (const r of o.references ?? []) {
        if (r.y <= yMax)
            out.push(`<line x1="${L}" x2="${W - R}" y1="${py(r.y)}" y2="${py(r.y)}" stroke="#555" stroke-dasharray="2 4"/>`);
        out.push(`<text x="${W - R + 10}" y="${legendY}" fill="#555">${esc(r.name)}: ${fmt(r.y)}${r.y > yMax ? ' (off the chart)' : ''}</text>`);
        legendY += 18;
    }
    for (const [i, s] of o.series.entries()) {
        const c = COLORS[i % COLORS.length];
        const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ');
        out.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
        for (const p of s.points)
            out.push(`<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="3" fill="${c}"/>`);
        out.push(`<line x1="${W - R + 10}" x2="${W - R + 34}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
        out.push(`<text x="${W - R + 40}" y="${legendY}">${esc(s.name)}</text>`);
        legendY += 18;
    }
    out.push('</svg>');
    return `${out.join('\n')}\n`;
}
//# sourceMappingURL=chart.js.map