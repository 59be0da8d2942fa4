import { env } from 'cloudflare:test';
import { inject } from 'vitest';

async function put(files: Record<string, string>, skip: (key: string) => boolean = () => false): Promise<void> {
  for (const [key, b64] of Object.entries(files)) {
    if (!skip(key)) await env.RUNS.put(key, Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0)));
  }
}

/** Puts the tiny run made by test/global-setup.ts into the Worker's R2 binding. */
export async function seedRun(): Promise<void> {
  await put(inject('tinyRunFiles'));
}

/** Puts the colour image-folder run beside it (its `latest` pointer left out: latest stays the tiny run). */
export async function seedColorRun(): Promise<void> {
  await put(inject('colorRunFiles'), (key) => key === 'latest');
}

/** Puts the trained resnet run beside them (its `latest` pointer left out). */
export async function seedResnetRun(): Promise<void> {
  await put(inject('resnetRunFiles'), (key) => key === 'latest');
}
