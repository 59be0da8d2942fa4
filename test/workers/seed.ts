import { env } from 'cloudflare:test';
import { inject } from 'vitest';

/** Puts the tiny run made by test/global-setup.ts into the Worker's R2 binding. */
export async function seedRun(): Promise<void> {
  for (const [key, b64] of Object.entries(inject('tinyRunFiles'))) {
    await env.RUNS.put(key, Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0)));
  }
}
