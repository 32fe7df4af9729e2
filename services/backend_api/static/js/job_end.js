// A quick job can end before its POST's answer is handled, and its last event then finds nobody waiting
// for it: a panel that starts waiting asks for the job's state, and an ended job is handled as its event.

import { get } from "./api.js";
import { attempt } from "./ui.js";

const ENDED = ["completed", "failed", "cancelled"];

// The `<kind>.completed` or `<kind>.failed` event of job `id` (its state at `statusPath`), or null while
// it runs (or when its state cannot be read: its events still come).
export async function endedJobEvent(id, statusPath) {
  const job = await attempt(() => get(statusPath));
  if (!job || !ENDED.includes(job.state)) return null;
  const ended = job.state === "completed" ? "completed" : "failed";
  return { type: `${job.kind}.${ended}`, data: { job_id: id, reason: (job.error && job.error.message) || job.state } };
}
