// A price chart with a run's trades on it: an arrow at each entry (up for a buy, down for a sell), a dot at
// each exit, green for a win and red for a loss, a dashed line from entry to exit, and the trade's SL (red)
// and TP (green) over its life where it had them. Reusable by any panel that has trades:
//
//   const view = await openTradeChart(box, { symbol, timeframe, from, to, trades, source })
//     symbol, timeframe: the bars to draw, read over [from, to] (ISO or epoch s) and further back on
//       scrolling, from the data service's stored /ohlc, or with source "terminal" from the mt5 service's
//       /rates (a live market's latest bars, which the store may not hold yet);
//     trades: columns as a backtest result has them: entry_time, exit_time (epoch s, bar open times),
//       size (signed lots: > 0 a buy), entry_price, exit_price, sl, tp (null: none), pnl; optionally
//       open (true: a position still open, its "exit" the latest price).
//   view.focus(i)   moves the chart to trade i (entry to exit, with room around) and highlights it.
//   view.setTrades(trades)   redraws the markers and lines only (a live instance's new fills).
//   → null when the chart cannot be drawn (the box or a toast says why).

import { get } from "./api.js";
import { theme, TIMEFRAME_S } from "./chart_lib.js";
import { priceDigits } from "./format.js";
import { PriceChart } from "./price_chart.js";
import { attempt } from "./ui.js";

const OLDER_BARS = 500;
const ROOM_BARS = 20;  // bars shown on each side of a focused trade

// Entry-to-exit lines and SL/TP segments, drawn on the candles' pane for the trades in view.
class TradeLines {
  constructor(trades, colors) {
    this.trades = trades;
    this.colors = colors;
    this.selected = -1;
  }

  attached({ chart, series, requestUpdate }) { Object.assign(this, { chart, series, requestUpdate }); }
  detached() { this.requestUpdate = null; }
  updateAllViews() {}
  select(i) { this.selected = i; if (this.requestUpdate) this.requestUpdate(); }

  paneViews() {
    return [{ zOrder: () => "top", renderer: () => ({ draw: (target) => target.useMediaCoordinateSpace(({ context }) => this.draw(context)) }) }];
  }

  draw(g) {
    const ts = this.chart.timeScale(), range = ts.getVisibleRange(), t = this.trades;
    if (!range) return;
    const y = (p) => (p === null || p === undefined ? null : this.series.priceToCoordinate(p));
    for (let i = 0; i < t.entry_time.length; i++) {
      if (t.exit_time[i] < range.from || t.entry_time[i] > range.to) continue;
      const x1 = ts.timeToCoordinate(t.entry_time[i]), x2 = ts.timeToCoordinate(t.exit_time[i]);
      if (x1 === null || x2 === null) continue;
      const chosen = i === this.selected, win = t.pnl[i] >= 0;
      if (chosen) { g.fillStyle = "rgba(78,161,255,.12)"; g.fillRect(x1 - 4, 0, x2 - x1 + 8, g.canvas.height); }
      for (const [price, color] of [[t.sl[i], this.colors.down], [t.tp[i], this.colors.up]]) {
        const yy = y(price);
        if (yy === null) continue;
        g.strokeStyle = color; g.lineWidth = chosen ? 2 : 1; g.setLineDash([]);
        g.beginPath(); g.moveTo(x1, yy); g.lineTo(x2, yy); g.stroke();
      }
      const y1 = y(t.entry_price[i]), y2 = y(t.exit_price[i]);
      if (y1 === null || y2 === null) continue;
      g.strokeStyle = win ? this.colors.up : this.colors.down; g.lineWidth = chosen ? 2.5 : 1.2; g.setLineDash([5, 3]);
      g.beginPath(); g.moveTo(x1, y1); g.lineTo(x2, y2); g.stroke();
    }
    g.setLineDash([]);
  }
}

function markers(t, colors, selected) {
  const out = [];
  for (let i = 0; i < t.entry_time.length; i++) {
    const buy = t.size[i] > 0, color = t.pnl[i] >= 0 ? colors.up : colors.down, chosen = i === selected;
    out.push({ time: t.entry_time[i], price: t.entry_price[i], color, shape: buy ? "arrowUp" : "arrowDown",
      position: buy ? "atPriceBottom" : "atPriceTop", text: chosen ? `#${i + 1} ${buy ? "buy" : "sell"}` : "", size: chosen ? 2 : 1 });
    out.push({ time: t.exit_time[i], price: t.exit_price[i], color, shape: "circle", position: "atPriceMiddle",
      text: chosen ? `${t.open?.[i] ? "open" : "exit"} ${t.pnl[i] >= 0 ? "+" : ""}${t.pnl[i].toFixed(2)}` : "", size: chosen ? 1.5 : 0.6 });
  }
  return out;
}

const SOURCES = { store: "/api/data/ohlc", terminal: "/api/mt5/rates" };

export async function openTradeChart(box, { symbol, timeframe, from, to, trades, source = "store" }) {
  const q = (params) => new URLSearchParams(params).toString();
  const path = `${SOURCES[source]}/${symbol}/${timeframe}`;
  const bars = await attempt(() => get(`${path}?${q({ from, to })}`));
  const chart = await PriceChart.open(box, {
    digits: priceDigits(symbol),
    loadOlder: async (first) => (await attempt(() => get(`${path}?${q({ to: first - 1, count: OLDER_BARS })}`)))?.columns,
  });
  if (!chart || !bars) return null;
  chart.setBars(bars.columns);
  chart.showLatest();
  const colors = theme(), lines = new TradeLines(trades, colors);
  chart.candles.attachPrimitive(lines);
  const room = ROOM_BARS * (TIMEFRAME_S[timeframe] || 60);
  const show = (selected) => {
    chart.setMarkers(markers(lines.trades, colors, selected));
    lines.select(selected);
    box.dataset.trades = String(lines.trades.entry_time.length);
    box.dataset.openTrades = String((lines.trades.open || []).filter(Boolean).length);
    box.dataset.stopLevels = String(lines.trades.entry_time.filter((_, i) => lines.trades.sl[i] !== null || lines.trades.tp[i] !== null).length);
  };
  show(-1);
  return {
    chart,
    focus(i) {
      const t = lines.trades;
      chart.showRange(t.entry_time[i] - room, t.exit_time[i] + room);
      show(i);
      box.dataset.selectedTrade = String(i);
    },
    setTrades(next) {
      lines.trades = next;
      show(lines.selected < next.entry_time.length ? lines.selected : -1);
    },
  };
}
