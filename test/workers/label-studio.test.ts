/** The Label Studio ML backend inside workerd: a /predict body as Label Studio sends it, with a data: URL task image. */
import { SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedRun } from './seed.ts';

const auth = { authorization: 'Bearer worker-test-key' };
const choices = Array.from({ length: 10 }, (_, c) => `class ${c}`);
const labelConfig = `<View><Image name="image" value="$image"/><Choices name="label" toName="image">${choices.map((c) => `<Choice value="${c}"/>`).join('')}</Choices></View>`;

beforeAll(seedRun);

describe('Label Studio ML backend on Workers', () => {
  it('health, and a prediction whose choice is the dense modal label and whose score ranks a PIE first', async () => {
    expect(await (await SELF.fetch('https://pie.test/ml/health', { headers: auth })).json()).toMatchObject({ status: 'UP' });
    const queue = await (await SELF.fetch('https://pie.test/v1/runs/latest/review?level=p90&limit=1', { headers: auth })).json() as { items: { index: number }[] };
    const pieIndex = queue.items[0].index;
    const answer = await (await SELF.fetch(`https://pie.test/v1/runs/latest/images/${pieIndex}`, { headers: auth })).json() as { denseModal: { name: string } };
    const png = new Uint8Array(await (await SELF.fetch(`https://pie.test/v1/runs/latest/images/${pieIndex}/image.png`, { headers: auth })).arrayBuffer());
    const dataUrl = `data:image/png;base64,${btoa(String.fromCharCode(...png))}`;
    const body = {
      tasks: [{ id: 1, data: { image: dataUrl }, annotations: [], predictions: [] }],
      project: '1.1763629000', label_config: labelConfig, params: { login: null, password: null, context: null },
    };
    const r = await SELF.fetch('https://pie.test/ml/predict', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(r.status).toBe(200);
    const out = await r.json() as { results: { result: { value: { choices: string[] } }[]; score: number }[] };
    expect(out.results).toHaveLength(1);
    expect(out.results[0].result[0].value.choices).toEqual([answer.denseModal.name]);
    expect(out.results[0].score).toBeGreaterThan(0.5);
  });

  it("answers tasks at the API's own image URLs from the run, and puts a refusal's reason in the status line", async () => {
    const queue = await (await SELF.fetch('https://pie.test/v1/runs/latest/review?level=p90&limit=1', { headers: auth })).json() as { items: { index: number }[] };
    const body = {
      tasks: [{ id: 2, data: { image: `https://pie.test/v1/runs/latest/images/${queue.items[0].index}/image.png?scale=4` } }],
      project: '1.1763629000', label_config: labelConfig,
    };
    const r = await SELF.fetch('https://pie.test/ml/predict', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const out = await r.json() as { results: { score: number }[]; errors: unknown[] };
    expect(out.errors).toEqual([]);
    expect(out.results[0].score).toBeGreaterThan(0.5);
    const setup = await SELF.fetch('https://pie.test/ml/setup', {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ project: '1.1763629000', schema: labelConfig.replace('<Choice value="class 3"/>', '') }),
    });
    expect(setup.status).toBe(400);
    expect(setup.statusText).toMatch(/^choices_mismatch: .*missing .*"class 3"/);
  });
});
