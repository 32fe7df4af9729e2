// A candlestick chart on a canvas: bars, overlay lines on the price scale, sub-panes for oscillators,
// pattern markers and horizontal levels. No library: everything the dashboard draws is here.

const COLORS = { up: "#26a69a", down: "#ef5350", grid: "#1e2732", text: "#8b98a8", last: "#4ea1ff" };
const LINE_COLORS = ["#f0b429", "#4ea1ff", "#c792ea", "#7ee2c5", "#ff9b98", "#ffd166"];
const AXIS_W = 64, AXIS_H = 22, PANE_H = 90;

export class CandleChart {
  constructor(canvas) {
    this.canvas = canvas;
    this.bars = { time: [], open: [], high: [], low: [], close: [] };
    this.overlays = [];   // {name, values}
    this.panes = [];      // {name, series: [{name, values}]}
    this.markers = [];    // {time, direction, label}
    this.levels = [];     // {price, label}
    this.digits = 5;
    this.hover = null;
    new ResizeObserver(() => this.draw()).observe(canvas);
    canvas.addEventListener("mousemove", (e) => { this.hover = e.offsetX; this.draw(); });
    canvas.addEventListener("mouseleave", () => { this.hover = null; this.draw(); });
  }

  setBars(columns, digits) {
    this.bars = { time: [...columns.time], open: [...columns.open], high: [...columns.high], low: [...columns.low], close: [...columns.close] };
    if (digits !== undefined) this.digits = digits;
    this.draw();
  }

  // A closed or updated bar: replace the bar with the same open time, or append a newer one.
  upsertBar(bar) {
    this.countUpdate();
    const n = this.bars.time.length;
    if (n && this.bars.time[n - 1] === bar.time) {
      for (const k of ["open", "high", "low", "close"]) this.bars[k][n - 1] = bar[k];
    } else if (!n || bar.time > this.bars.time[n - 1]) {
      for (const k of ["time", "open", "high", "low", "close"]) this.bars[k].push(bar[k]);
    }
    this.draw();
  }

  // A tick moves the last bar's close (and its extremes) until the bar closes.
  applyPrice(price) {
    const n = this.bars.time.length;
    if (!n) return;
    this.countUpdate();
    this.bars.close[n - 1] = price;
    this.bars.high[n - 1] = Math.max(this.bars.high[n - 1], price);
    this.bars.low[n - 1] = Math.min(this.bars.low[n - 1], price);
    this.draw();
  }

  // Live updates are counted on the element, so people and tests can see the chart is fed.
  countUpdate() {
    this.canvas.dataset.liveUpdates = String(Number(this.canvas.dataset.liveUpdates || 0) + 1);
  }

  setIndicators(overlays, panes) { this.overlays = overlays; this.panes = panes; this.draw(); }
  setMarkers(markers) { this.markers = markers; this.draw(); }
  setLevels(levels) { this.levels = levels; this.draw(); }

  draw() {
    const c = this.canvas, dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth, h = c.clientHeight;
    if (!w || !h) return;
    c.width = w * dpr; c.height = h * dpr;
    const g = c.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    g.font = "11px system-ui, sans-serif";
    const n = this.bars.time.length;
    if (!n) { g.fillStyle = COLORS.text; g.fillText("no bars", 10, 20); return; }
    const plotW = w - AXIS_W, mainH = h - AXIS_H - this.panes.length * PANE_H;
    const step = plotW / n, bodyW = Math.max(1, step * 0.7);
    const x = (i) => i * step + step / 2;
    let lo = Math.min(...this.bars.low), hi = Math.max(...this.bars.high);
    for (const o of this.overlays) for (const v of o.values) if (v !== null && Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    for (const l of this.levels) { lo = Math.min(lo, l.price); hi = Math.max(hi, l.price); }
    const pad = (hi - lo) * 0.05 || 1e-6; lo -= pad; hi += pad;
    const y = (p) => mainH - ((p - lo) / (hi - lo)) * mainH;

    this.grid(g, lo, hi, y, plotW, mainH);
    for (let i = 0; i < n; i++) {
      const o = this.bars.open[i], cl = this.bars.close[i], color = cl >= o ? COLORS.up : COLORS.down;
      g.strokeStyle = g.fillStyle = color;
      g.beginPath(); g.moveTo(x(i), y(this.bars.high[i])); g.lineTo(x(i), y(this.bars.low[i])); g.stroke();
      const top = y(Math.max(o, cl)), height = Math.max(1, Math.abs(y(o) - y(cl)));
      g.fillRect(x(i) - bodyW / 2, top, bodyW, height);
    }
    this.overlays.forEach((o, k) => this.line(g, o.values, x, y, LINE_COLORS[k % LINE_COLORS.length]));
    for (const l of this.levels) {
      g.strokeStyle = "#8b98a8"; g.setLineDash([4, 4]);
      g.beginPath(); g.moveTo(0, y(l.price)); g.lineTo(plotW, y(l.price)); g.stroke(); g.setLineDash([]);
      g.fillStyle = COLORS.text; g.fillText(l.label, 4, y(l.price) - 3);
    }
    const index = new Map(this.bars.time.map((t, i) => [t, i]));
    for (const m of this.markers) {
      const i = index.get(m.time);
      if (i === undefined) continue;
      const up = m.direction === "bullish";
      g.fillStyle = up ? COLORS.up : m.direction === "bearish" ? COLORS.down : COLORS.text;
      const yy = up ? y(this.bars.low[i]) + 12 : y(this.bars.high[i]) - 12;
      g.beginPath(); g.moveTo(x(i), yy + (up ? -6 : 6)); g.lineTo(x(i) - 4, yy + (up ? 2 : -2)); g.lineTo(x(i) + 4, yy + (up ? 2 : -2)); g.fill();
    }
    const last = this.bars.close[n - 1];
    g.strokeStyle = COLORS.last; g.setLineDash([2, 3]);
    g.beginPath(); g.moveTo(0, y(last)); g.lineTo(plotW, y(last)); g.stroke(); g.setLineDash([]);
    g.fillStyle = COLORS.last; g.fillRect(plotW, y(last) - 8, AXIS_W, 16);
    g.fillStyle = "#0c1116"; g.fillText(last.toFixed(this.digits), plotW + 4, y(last) + 4);

    this.panes.forEach((pane, k) => this.pane(g, pane, k, x, plotW, mainH));
    this.timeAxis(g, x, plotW, h);
    if (this.hover !== null) this.crosshair(g, x, step, plotW, h);
  }

  grid(g, lo, hi, y, plotW, mainH) {
    g.strokeStyle = COLORS.grid; g.fillStyle = COLORS.text;
    for (let k = 0; k <= 5; k++) {
      const p = lo + ((hi - lo) * k) / 5;
      g.beginPath(); g.moveTo(0, y(p)); g.lineTo(plotW, y(p)); g.stroke();
      g.fillText(p.toFixed(this.digits), plotW + 4, Math.min(mainH - 2, Math.max(10, y(p) + 4)));
    }
  }

  line(g, values, x, y, color) {
    g.strokeStyle = color; g.lineWidth = 1.2; g.beginPath();
    let started = false;
    values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) { started = false; return; }
      if (started) g.lineTo(x(i), y(v)); else { g.moveTo(x(i), y(v)); started = true; }
    });
    g.stroke(); g.lineWidth = 1;
  }

  pane(g, pane, k, x, plotW, mainH) {
    const top = mainH + k * PANE_H, h = PANE_H - 6;
    const all = pane.series.flatMap((s) => s.values.filter((v) => v !== null && Number.isFinite(v)));
    if (!all.length) return;
    const lo = Math.min(...all), hi = Math.max(...all) || lo + 1;
    const y = (v) => top + 6 + h - ((v - lo) / (hi - lo || 1)) * h;
    g.strokeStyle = COLORS.grid; g.beginPath(); g.moveTo(0, top + 3); g.lineTo(plotW, top + 3); g.stroke();
    g.fillStyle = COLORS.text; g.fillText(pane.name, 4, top + 16);
    g.fillText(hi.toFixed(2), plotW + 4, top + 16); g.fillText(lo.toFixed(2), plotW + 4, top + h);
    pane.series.forEach((s, j) => this.line(g, s.values, x, y, LINE_COLORS[j % LINE_COLORS.length]));
  }

  timeAxis(g, x, plotW, h) {
    const n = this.bars.time.length, every = Math.max(1, Math.ceil(n / Math.max(1, Math.floor(plotW / 110))));
    g.fillStyle = COLORS.text;
    for (let i = 0; i < n; i += every) {
      const label = new Date(this.bars.time[i] * 1000).toISOString().slice(5, 16).replace("T", " ");
      g.fillText(label, Math.min(plotW - 70, x(i) - 30), h - 6);
    }
  }

  crosshair(g, x, step, plotW, h) {
    const i = Math.min(this.bars.time.length - 1, Math.max(0, Math.floor(this.hover / step)));
    g.strokeStyle = "#3b4756"; g.beginPath(); g.moveTo(x(i), 0); g.lineTo(x(i), h - AXIS_H); g.stroke();
    const b = this.bars, d = this.digits;
    const text = `${new Date(b.time[i] * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC  O ${b.open[i].toFixed(d)}  H ${b.high[i].toFixed(d)}  L ${b.low[i].toFixed(d)}  C ${b.close[i].toFixed(d)}`;
    g.fillStyle = "rgba(12,17,22,.85)"; g.fillRect(4, 4, g.measureText(text).width + 12, 18);
    g.fillStyle = "#d8e0ea"; g.fillText(text, 10, 17);
  }
}
