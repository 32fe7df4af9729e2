// A price chart on lightweight-charts: candles and volume, indicator overlays, oscillator panes, markers and
// levels; a legend per pane with the crosshair's values (the latest ones when the mouse is away); scrolling
// to the left edge asks `loadOlder` for the bars before the first one and prepends them.
//
//   const chart = await PriceChart.open(box, { digits, loadOlder })   → null when the library is missing
//     loadOlder(firstTimeS) → Promise of bar columns ({time, open, high, low, close, tick_volume}) or null
//   chart.setDigits(d) · setBars(columns) · showLatest() · upsertBar(bar) · applyPrice(price) · applyTick(ms, price, barS)
//   chart.columns()
//   chart.setIndicators(overlays, panes)   overlays: [{name, values}], panes: [{name, series: [{name, values}]}]
//   chart.setMarkers(markers) · setLevels([{price, label}]) · showRange(fromS, toS)
//   chart.onExtended = () => …   called after older bars were prepended
//   chart.remove()   lets go of the chart (a view closed or replaced)
// The box's data-* attributes (bars, first-time, visible-from/-to, live-updates) let people and tests see its state.

import { createThemedChart, library, SERIES_COLORS, showMissing, theme } from "./chart_lib.js";
import { el } from "./ui.js";

const EDGE_BARS = 10;  // this close to the first loaded bar, older ones are requested
const VOLUME_ALPHA = "66";
const MAX_MARKER_LABELS = 40;  // more labelled markers than this overlap: drawn bare, named in the legend
const listeners = new WeakMap();  // box → the AbortController of its chart's DOM listeners

export class PriceChart {
  static async open(box, options = {}) {
    const lib = await library();
    if (!lib) { showMissing(box); return null; }
    return new PriceChart(lib, box, options);
  }

  constructor(lib, box, { digits = 5, loadOlder = null } = {}) {
    this.lib = lib;
    this.box = box;
    this.loadOlder = loadOlder;
    this.onExtended = null;
    this.bars = [];
    this.volumes = [];
    this.indicators = [];  // {pane, label, series, values, digits}
    this.levels = [];
    this.loadingOlder = false;
    this.exhausted = false;
    this.t = theme();
    box.classList.add("chart-box");
    this.chart = createThemedChart(lib, box);
    this.candles = this.chart.addSeries(lib.CandlestickSeries, { upColor: this.t.up, downColor: this.t.down,
      wickUpColor: this.t.up, wickDownColor: this.t.down, borderVisible: false });
    this.setDigits(digits);
    this.candles.priceScale().applyOptions({ scaleMargins: { top: 0.06, bottom: 0.22 } });
    this.volume = this.chart.addSeries(lib.HistogramSeries, { priceScaleId: "volume", priceFormat: { type: "volume" },
      lastValueVisible: false, priceLineVisible: false });
    this.volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    this.markers = lib.createSeriesMarkers(this.candles, []);
    this.legends = [];
    this.chart.subscribeCrosshairMove((param) => this.renderLegends(param));
    // Older bars are loaded when the user reaches the left edge, not when new bars happen to fit the view.
    this.userMoved = false;
    listeners.get(box)?.abort();  // a box drawn again drops its previous chart's listeners
    const controller = new AbortController();
    listeners.set(box, controller);
    for (const kind of ["pointerdown", "wheel", "touchstart", "keydown"]) {
      box.addEventListener(kind, () => { this.userMoved = true; }, { capture: true, passive: true, signal: controller.signal });
    }
    window.addEventListener("resize", () => requestAnimationFrame(() => this.placeLegends()), { signal: controller.signal });
    this.chart.timeScale().subscribeVisibleLogicalRangeChange((range) => {
      if (range && range.from < EDGE_BARS && this.userMoved) this.older();
    });
    this.chart.timeScale().subscribeVisibleTimeRangeChange((range) => {
      if (!range) return;
      box.dataset.visibleFrom = String(range.from);
      box.dataset.visibleTo = String(range.to);
    });
  }

  setDigits(digits) {
    this.digits = digits;
    this.candles.applyOptions({ priceFormat: { type: "price", precision: digits, minMove: 10 ** -digits } });
  }

  setBars(columns) {
    this.bars = columns.time.map((time, i) => ({ time, open: columns.open[i], high: columns.high[i], low: columns.low[i], close: columns.close[i] }));
    this.volumes = columns.time.map((time, i) => this.volumeBar(time, (columns.tick_volume || [])[i] ?? 0, this.bars[i]));
    this.exhausted = false;
    this.userMoved = false;
    this.draw();
  }

  // The loaded bars as columns (what the indicator and pattern services take).
  columns() {
    const pick = (k) => this.bars.map((b) => b[k]);
    return { time: pick("time"), open: pick("open"), high: pick("high"), low: pick("low"), close: pick("close"), volume: this.volumes.map((v) => v.value) };
  }

  volumeBar(time, value, bar) {
    return { time, value, color: (bar.close >= bar.open ? this.t.up : this.t.down) + VOLUME_ALPHA };
  }

  draw() {
    this.candles.setData(this.bars);
    this.volume.setData(this.volumes);
    this.box.dataset.bars = String(this.bars.length);
    this.box.dataset.firstTime = String(this.bars.length ? this.bars[0].time : "");
    this.renderLegends(null);
  }

  async older() {
    if (!this.loadOlder || this.loadingOlder || this.exhausted || !this.bars.length) return;
    this.loadingOlder = true;
    const first = this.bars[0].time;
    let cols = null;
    try { cols = await this.loadOlder(first); } finally { this.loadingOlder = false; }
    const keep = cols ? cols.time.map((t, i) => i).filter((i) => cols.time[i] < first) : [];
    if (!keep.length) { this.exhausted = true; this.box.dataset.exhausted = "true"; return; }
    const bars = keep.map((i) => ({ time: cols.time[i], open: cols.open[i], high: cols.high[i], low: cols.low[i], close: cols.close[i] }));
    this.bars = [...bars, ...this.bars];
    this.volumes = [...bars.map((b, k) => this.volumeBar(b.time, (cols.tick_volume || [])[keep[k]] ?? 0, b)), ...this.volumes];
    this.draw();
    if (this.onExtended) this.onExtended();
  }

  // A closed or updated bar: replace the bar with the same open time, or append a newer one.
  upsertBar(bar) {
    const last = this.bars[this.bars.length - 1];
    if (last && bar.time < last.time) return;
    const next = { time: bar.time, open: bar.open, high: bar.high, low: bar.low, close: bar.close };
    if (last && last.time === bar.time) this.bars[this.bars.length - 1] = next; else this.bars.push(next);
    const vol = this.volumeBar(bar.time, bar.tick_volume ?? (last && last.time === bar.time ? this.volumes[this.volumes.length - 1].value : 0), next);
    if (last && last.time === bar.time) this.volumes[this.volumes.length - 1] = vol; else this.volumes.push(vol);
    this.candles.update(next);
    this.volume.update(vol);
    this.countUpdate();
  }

  // A tick moves the last bar's close (and its extremes) until the bar closes.
  applyPrice(price) {
    const last = this.bars[this.bars.length - 1];
    if (!last) return;
    last.close = price;
    last.high = Math.max(last.high, price);
    last.low = Math.min(last.low, price);
    this.candles.update({ ...last });
    this.countUpdate();
  }

  // A tick of the chart's symbol: a new bar when it opens one (bars `barS` long), else the last bar moves.
  applyTick(timeMs, price, barS) {
    const open = Math.floor(timeMs / 1000 / barS) * barS, last = this.bars[this.bars.length - 1];
    if (last && open > last.time) this.upsertBar({ time: open, open: price, high: price, low: price, close: price });
    else this.applyPrice(price);
  }

  // Live updates are counted on the box, so people and tests can see the chart is fed.
  countUpdate() {
    this.box.dataset.liveUpdates = String(Number(this.box.dataset.liveUpdates || 0) + 1);
    this.renderLegends(null);
  }

  setIndicators(overlays, panes) {
    for (const ind of this.indicators) this.chart.removeSeries(ind.series);
    while (this.chart.panes().length > 1) this.chart.removePane(this.chart.panes().length - 1);
    this.indicators = [];
    const times = this.bars.map((b) => b.time);
    const add = (pane, s, k, digits) => {
      const color = SERIES_COLORS[k % SERIES_COLORS.length];
      const series = this.chart.addSeries(this.lib.LineSeries, { color, lineWidth: 1, priceLineVisible: false, lastValueVisible: false,
        crosshairMarkerVisible: false, priceFormat: { type: "price", precision: digits, minMove: 10 ** -digits } }, pane);
      // Indicator values line up with the bars they were computed on; null (warm-up) is a gap.
      series.setData(times.slice(0, s.values.length).map((time, i) => (s.values[i] === null || !Number.isFinite(s.values[i]) ? { time } : { time, value: s.values[i] })));
      this.indicators.push({ pane, label: s.name, series, values: s.values, digits, color });
    };
    overlays.forEach((s, k) => add(0, s, k, this.digits));
    panes.forEach((p, j) => p.series.forEach((s, k) => add(j + 1, s, k, 2)));
    this.paneNames = ["", ...panes.map((p) => p.name)];
    this.renderLegends(null);
  }

  // Many labelled markers overlap into an unreadable band: past MAX_MARKER_LABELS they are drawn bare and
  // the legend names those of the bar under the crosshair.
  setMarkers(markers) {
    const sorted = [...markers].sort((a, b) => a.time - b.time);
    this.markerText = new Map();
    for (const m of sorted) if (m.text) this.markerText.set(m.time, [...(this.markerText.get(m.time) || []), m.text]);
    const bare = sorted.length > MAX_MARKER_LABELS;
    this.markers.setMarkers(bare ? sorted.map((m) => ({ ...m, text: "" })) : sorted);
    this.box.dataset.markers = String(markers.length);
    this.renderLegends(null);
  }

  setLevels(levels) {
    for (const line of this.levels) this.candles.removePriceLine(line);
    this.levels = levels.map((l) => this.candles.createPriceLine({ price: l.price, color: this.t.text, lineWidth: 1,
      lineStyle: this.lib.LineStyle.Dashed, axisLabelVisible: false, title: l.label }));
  }

  // All but the first few bars: the left edge (which loads older bars) is reached by scrolling, not at once.
  showLatest() {
    const n = this.bars.length;
    this.chart.timeScale().setVisibleLogicalRange({ from: Math.min(2 * EDGE_BARS, n / 4), to: n + 2 });
  }

  showRange(fromS, toS) {
    this.chart.timeScale().setVisibleRange({ from: fromS, to: toS });
  }

  // A chart no longer shown lets go of its canvas, observers and listeners.
  remove() {
    listeners.get(this.box)?.abort();
    this.chart.remove();
  }

  // One legend per pane at the pane's top: the crosshair's bar, or the latest values when the mouse is away.
  renderLegends(param) {
    const panes = this.chart.panes();
    while (this.legends.length < panes.length) {
      const node = el("div", { class: "chart-legend", "data-pane": this.legends.length });
      this.box.append(node);
      this.legends.push(node);
    }
    while (this.legends.length > panes.length) this.legends.pop().remove();
    const hovered = param && param.time !== undefined ? param : null;
    // The library lays its panes out on its next frame: place the legends once it has.
    requestAnimationFrame(() => this.placeLegends());
    panes.forEach((pane, k) => {
      const node = this.legends[k];
      const parts = k === 0 ? [this.barText(hovered)] : [el("span", {}, this.paneNames?.[k] || "")];
      for (const ind of this.indicators.filter((i) => i.pane === k)) {
        const point = hovered ? hovered.seriesData.get(ind.series) : null;
        const value = hovered ? point?.value : lastValue(ind.values);
        parts.push(el("span", { class: "legend-item" }, el("i", { class: "swatch", "data-color": ind.color }), `${ind.label} ${value === undefined || value === null ? "–" : value.toFixed(ind.digits)}`));
      }
      node.replaceChildren(...parts);
      for (const swatch of node.querySelectorAll(".swatch")) swatch.style.background = swatch.dataset.color;
    });
  }

  placeLegends() {
    const boxTop = this.box.getBoundingClientRect().top;
    this.chart.panes().forEach((pane, k) => {
      const paneEl = pane.getHTMLElement();
      if (this.legends[k]) this.legends[k].style.top = `${paneEl ? paneEl.getBoundingClientRect().top - boxTop + 4 : 4}px`;
    });
  }

  barText(hovered) {
    const bar = hovered ? hovered.seriesData.get(this.candles) : this.bars[this.bars.length - 1];
    if (!bar) return el("span", {}, "no bars");
    const vol = hovered ? hovered.seriesData.get(this.volume)?.value : this.volumes[this.volumes.length - 1]?.value;
    const d = this.digits, when = new Date(Number(bar.time) * 1000).toISOString().slice(0, 16).replace("T", " ");
    const marked = this.markerText?.get(bar.time);
    return el("span", { class: "legend-bar" }, `${when} UTC  O ${bar.open.toFixed(d)}  H ${bar.high.toFixed(d)}  L ${bar.low.toFixed(d)}  C ${bar.close.toFixed(d)}  V ${vol ?? "–"}${marked ? `  ${marked.join(", ")}` : ""}`);
  }
}

function lastValue(values) {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null && Number.isFinite(values[i])) return values[i];
  return null;
}
