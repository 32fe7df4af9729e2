// A live instance's trades in the columns openTradeChart takes (trade_chart.js), from what the terminal
// keeps: its deals grouped by position (the entry deal, then the deals that closed it), the SL/TP of the
// order that opened each, and its open positions, drawn to now at the current price.
//
//   instanceTrades({ deals, orders, positions, nowS, barS })
//     → { entry_time, exit_time, size, entry_price, exit_price, sl, tp, pnl, position, open }
// Times are the opening times of the bars (`barS` long) they fell in: the chart places trades on bars.

const BUY = 0;
const ENTRY_IN = 0;
const net = (d) => d.profit + d.commission + d.swap + d.fee;
const level = (value) => (value ? value : null);  // MT5 says "no SL/TP" with 0

export function instanceTrades({ deals, orders, positions, nowS, barS }) {
  const bar = (s) => Math.floor(s / barS) * barS;
  const stops = new Map(orders.map((o) => [o.ticket, o]));
  const live = new Map(positions.map((p) => [p.ticket, p]));
  const byPosition = new Map();
  for (const d of deals) {
    if (d.type !== 0 && d.type !== 1) continue;  // balance, credit ... are no trades
    if (!byPosition.has(d.position_id)) byPosition.set(d.position_id, []);
    byPosition.get(d.position_id).push(d);
  }
  const trades = [];
  for (const [ticket, group] of byPosition) {
    const entry = group.find((d) => d.entry === ENTRY_IN);
    if (!entry) continue;  // opened before the history read
    const exits = group.filter((d) => d !== entry), order = stops.get(entry.order), open = live.get(ticket);
    const out = exits.reduce((v, d) => v + d.volume, 0);
    const realised = group.reduce((v, d) => v + net(d), 0);
    trades.push({
      entry_time: bar(entry.time), size: entry.type === BUY ? entry.volume : -entry.volume, entry_price: entry.price,
      sl: level(open ? open.sl : order?.sl), tp: level(open ? open.tp : order?.tp), position: ticket, open: Boolean(open),
      ...(open || !out
        ? { exit_time: bar(nowS), exit_price: open ? open.price_current : entry.price, pnl: realised + (open ? open.profit : 0) }
        : { exit_time: bar(Math.max(...exits.map((d) => d.time))), exit_price: exits.reduce((v, d) => v + d.price * d.volume, 0) / out, pnl: realised }),
    });
  }
  // A position whose entry deal has not reached the history yet: from the position itself.
  for (const p of positions) {
    if (byPosition.has(p.ticket)) continue;
    trades.push({ entry_time: bar(p.time), size: p.type === BUY ? p.volume : -p.volume, entry_price: p.price_open, sl: level(p.sl), tp: level(p.tp),
      position: p.ticket, open: true, exit_time: bar(nowS), exit_price: p.price_current, pnl: p.profit });
  }
  trades.sort((a, b) => a.entry_time - b.entry_time || a.position - b.position);
  const keys = ["entry_time", "exit_time", "size", "entry_price", "exit_price", "sl", "tp", "pnl", "position", "open"];
  return Object.fromEntries(keys.map((k) => [k, trades.map((t) => t[k])]));
}
