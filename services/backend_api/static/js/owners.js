// Which strategy instance owns a magic number: every instance order carries its instance's magic (see the
// strategy service's README section), so positions and deals are attributed by it.

import { get } from "./api.js";

let byMagic = new Map();

// The strategy service's instances, read again on each call (instances come and go); the last answer is
// kept when the strategy service cannot be reached, so the tables still render.
export async function loadOwners() {
  try {
    const overview = await get("/api/strategy/strategies");
    byMagic = new Map(overview.instances.map((i) => [i.magic, i]));
  } catch {
    // the strategy service is down: positions and deals show their magic number without a name
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
