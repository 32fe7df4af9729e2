// Which strategy instance owns a magic number: every instance order carries its instance's magic (see the
// strategy service's README section), so positions and deals are attributed by it.

import { get } from "./api.js";

// The strategy service's overview values each running instance's day (mt5 history reads): read at most
// this often, however often the positions table is refreshed.
const MAX_AGE_MS = 10_000;
let byMagic = new Map();
let readAt = -Infinity;

// The strategy service's instances (instances come and go, so they are read again once MAX_AGE_MS old);
// the last answer is kept when the strategy service cannot be reached, so the tables still render.
export async function loadOwners({ fresh = false } = {}) {
  if (fresh || performance.now() - readAt > MAX_AGE_MS) {
    try {
      const overview = await get("/api/strategy/strategies");
      byMagic = new Map(overview.instances.map((i) => [i.magic, i]));
      readAt = performance.now();
    } catch {
      // the strategy service is down: positions and deals show their magic number without a name
    }
  }
  return [...byMagic.values()];
}

// "a1b2c3d4 ema_crossover" for an instance's magic, "manual" for 0 (the dashboard's and scripts' orders),
// else "" (a magic number no instance owns).
export function ownerName(magic) {
  if (!magic) return "manual";
  const owner = byMagic.get(magic);
  return owner ? `${owner.id} ${owner.strategy}` : "";
}
