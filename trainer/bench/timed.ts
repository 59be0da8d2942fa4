/** Runs f (once to warm up, then until it has used ≥ minMs of this process's CPU); returns CPU and wall µs per call. */
export function timed(f: () => void, minMs: number): { cpuUs: number; wallUs: number } {
  f(); // warm-up (and wasm tier-up)
  let reps = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let used = 0;
  while (used < minMs * 1000) {
    f();
    reps++;
    const c = process.cpuUsage(c0);
    used = c.user + c.system;
  }
  return { cpuUs: used / reps, wallUs: ((performance.now() - t0) * 1000) / reps };
}
