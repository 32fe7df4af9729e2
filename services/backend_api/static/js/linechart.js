// A small line chart on a canvas (equity, drawdown): several series over a shared time axis.

const COLORS = ["#4ea1ff", "#f0b429", "#c792ea", "#7ee2c5"];

export function drawLines(canvas, series, { fill = false, percent = false } = {}) {
  const dpr = window.devicePixelRatio || 1, w = canvas.clientWidth, h = canvas.clientHeight;
  canvas.width = w * dpr; canvas.height = h * dpr;
  const g = canvas.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  g.font = "11px system-ui, sans-serif";
  const all = series.flatMap((s) => s.values.filter((v) => v !== null && Number.isFinite(v)));
  const times = series.flatMap((s) => s.time);
  if (!all.length) return;
  const lo = Math.min(...all), hi = Math.max(...all), t0 = Math.min(...times), t1 = Math.max(...times);
  const plotW = w - 70, plotH = h - 20;
  const x = (t) => ((t - t0) / (t1 - t0 || 1)) * plotW;
  const y = (v) => plotH - ((v - lo) / (hi - lo || 1)) * (plotH - 10) - 5;
  g.fillStyle = "#8b98a8"; g.strokeStyle = "#1e2732";
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    g.beginPath(); g.moveTo(0, y(v)); g.lineTo(plotW, y(v)); g.stroke();
    g.fillText(percent ? `${v.toFixed(1)} %` : v.toFixed(0), plotW + 4, y(v) + 4);
  }
  g.fillText(new Date(t0 * 1000).toISOString().slice(0, 10), 2, h - 4);
  g.fillText(new Date(t1 * 1000).toISOString().slice(0, 10), plotW - 70, h - 4);
  series.forEach((s, k) => {
    g.strokeStyle = COLORS[k % COLORS.length]; g.lineWidth = 1.4; g.beginPath();
    s.values.forEach((v, i) => (i ? g.lineTo(x(s.time[i]), y(v)) : g.moveTo(x(s.time[i]), y(v))));
    g.stroke();
    if (fill) { g.lineTo(x(s.time[s.time.length - 1]), y(0)); g.lineTo(x(s.time[0]), y(0)); g.fillStyle = "rgba(239,83,80,.25)"; g.fill(); }
    if (s.name) { g.fillStyle = COLORS[k % COLORS.length]; g.fillText(s.name, 6, 12 + 13 * k); }
  });
  g.lineWidth = 1;
}
