/**
 * The deployment files, checked by machine rather than by eye:
 * - every Kubernetes object in infra/k8s against the Kubernetes OpenAPI schemas (kubernetes-models:
 *   types, enums, formats, required fields) and, strictly, against its generated TypeScript type,
 *   which rejects unknown fields as `kubectl apply` does;
 * - the schedule's shape (Indexed Job, one index per shard, GPU, per-index retries);
 * - every `pie` command line in the manifests against the CLI's own options, so none drifts;
 * - the image definition against the repository, and the AWS Batch array job against the same rules.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CronJob } from 'kubernetes-models/batch/v1';
import { ConfigMap } from 'kubernetes-models/v1';
import { buildCli } from '../../cli/pie.ts';

const root = join(import.meta.dirname, '../..');
const k8sDir = join(root, 'infra/k8s');

/** To break a typed object on purpose. */
const loose = (o: object) => o as Record<string, unknown>;

type K8sObject = { apiVersion: string; kind: string; metadata?: { name?: string }; [k: string]: unknown };

/** The schema-backed model class and the TypeScript type of each kind the manifests use. */
const KINDS: Record<string, { model: new (data: never) => { validate(): void }; type: string; module: string }> = {
  'batch/v1 CronJob': { model: CronJob as never, type: 'ICronJob', module: 'kubernetes-models/batch/v1/CronJob' },
  'v1 ConfigMap': { model: ConfigMap as never, type: 'IConfigMap', module: 'kubernetes-models/v1/ConfigMap' },
};

function loadObjects(): { file: string; obj: K8sObject }[] {
  return readdirSync(k8sDir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').flatMap((file) =>
    parseAllDocuments(readFileSync(join(k8sDir, file), 'utf8')).map((doc) => {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
      return { file, obj: doc.toJS() as K8sObject };
    }));
}

/** Schema validation; throws with the schema's message on the first violation. */
function validate(obj: K8sObject): void {
  const kind = KINDS[`${obj.apiVersion} ${obj.kind}`];
  if (!kind) throw new Error(`no schema known here for ${obj.apiVersion} ${obj.kind}`);
  new kind.model(obj as never).validate();
}

/**
 * Unknown fields: each object becomes a literal of its kubernetes-models type in a virtual
 * TypeScript file; the compiler's excess-property check flags any field the API does not have,
 * at any depth. Returns the compiler's messages (empty = clean).
 */
function strictCheck(objects: K8sObject[]): string[] {
  const files = new Map<string, string>();
  objects.forEach((obj, i) => {
    const kind = KINDS[`${obj.apiVersion} ${obj.kind}`];
    files.set(join(root, `__manifest_${i}.ts`), `import type { ${kind.type} } from '${kind.module}';\nexport const m: ${kind.type} = ${JSON.stringify(obj, null, 1)};\n`);
  });
  const options: ts.CompilerOptions = {
    strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, types: [],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
  host.readFile = (f) => files.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, ...rest) => (files.has(f) ? ts.createSourceFile(f, files.get(f)!, lang) : getSourceFile.call(host, f, lang, ...rest));
  const program = ts.createProgram([...files.keys()], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

/** `pie <command> --flag …` invocations inside a shell line (`&&`-separated). */
function pieCommands(shell: string): { command: string; flags: string[] }[] {
  return shell.split('&&').map((s) => s.trim()).filter((s) => s.startsWith('pie ')).map((s) => {
    const words = s.split(/\s+/);
    return { command: words[1], flags: words.filter((w) => w.startsWith('-')) };
  });
}

function unknownFlags(shell: string): string[] {
  const cli = buildCli();
  return pieCommands(shell).flatMap(({ command, flags }) => {
    const cmd = cli.commands.find((c) => c.name() === command);
    if (!cmd) return [`pie ${command}`];
    const known = new Set(cmd.options.flatMap((o) => [o.long, o.short]).filter(Boolean));
    return flags.filter((f) => !known.has(f)).map((f) => `pie ${command} ${f}`);
  });
}

const objects = loadObjects();
const cronJob = objects.find((o) => o.obj.kind === 'CronJob')!.obj as unknown as import('kubernetes-models/batch/v1/CronJob').ICronJob;
const jobSpec = cronJob.spec!.jobTemplate.spec!;
const container = jobSpec.template.spec!.containers[0];

describe('Kubernetes manifests (infra/k8s)', () => {
  it('every object validates against the Kubernetes schemas', () => {
    expect(objects.map((o) => `${o.file}: ${o.obj.kind}`)).toEqual(['configmap.yaml: ConfigMap', 'cronjob.yaml: CronJob']);
    for (const { obj } of objects) expect(() => validate(obj), obj.kind).not.toThrow();
  });

  it('no object has a field the Kubernetes API does not know', () => {
    expect(strictCheck(objects.map((o) => o.obj))).toEqual([]);
  }, 60_000);

  it('rejects a mutated manifest: a wrong type, a bad enum value, a misspelled field', () => {
    const mutate = (edit: (j: typeof jobSpec) => void): K8sObject => {
      const copy = structuredClone(cronJob) as unknown as K8sObject & typeof cronJob;
      edit(copy.spec!.jobTemplate.spec!);
      return copy;
    };
    expect(() => validate(mutate((j) => { loose(j).completions = 'three'; }))).toThrow(/completions/);
    expect(() => validate(mutate((j) => { loose(j).completionMode = 'indexed'; }))).toThrow(/completionMode/);
    expect(() => validate(mutate((j) => { loose(j.template.spec!.containers[0]).name = 42; }))).toThrow(/name/);
    const typo = mutate((j) => { loose(j).backofLimitPerIndex = 2; });
    const deepTypo = mutate((j) => { loose(j.template.spec!.containers[0]).imagePullPolicyy = 'Always'; });
    const messages = strictCheck([typo, deepTypo]).join('\n');
    expect(messages).toMatch(/known properties, .*backofLimitPerIndex/);
    expect(messages).toMatch(/known properties, .*imagePullPolicyy/);
  }, 60_000);

  it('schedules an Indexed Job with one GPU pod per shard and retries per index', () => {
    expect(cronJob.spec!.schedule).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
    expect(cronJob.spec!.concurrencyPolicy).toBe('Forbid');
    expect(jobSpec.completionMode).toBe('Indexed');
    const shards = Number(container.env!.find((e) => e.name === 'SHARDS')!.value);
    expect(jobSpec.completions).toBe(shards);
    expect(jobSpec.parallelism).toBe(shards);
    expect(jobSpec.backoffLimitPerIndex).toBeGreaterThan(0);
    expect(jobSpec.template.spec!.restartPolicy).toBe('Never'); // podFailurePolicy requires it
    expect(container.resources!.limits!['nvidia.com/gpu']).toBe(1);
    const script = container.args!.join(' ');
    expect(script).toMatch(/pie train .*--shard "\$JOB_COMPLETION_INDEX\/\$SHARDS"/);
    expect(script).toMatch(/&& pie aggregate .*--if-complete/);
    // Every shard of one firing must name the run the same way: after the Job, not the pod.
    expect(container.env!.find((e) => e.name === 'RUN_ID')!.valueFrom!.fieldRef!.fieldPath).toBe("metadata.labels['batch.kubernetes.io/job-name']");
  });

  it('runs only flags the CLI has, reads a ConfigMap that exists, holds no credentials', () => {
    expect(unknownFlags(container.args!.join(' '))).toEqual([]);
    expect(unknownFlags('pie train --shard 0/3 --no-such-flag')).toEqual(['pie train --no-such-flag']);
    const configMap = objects.find((o) => o.obj.kind === 'ConfigMap')!.obj as unknown as { metadata: { name: string }; data: Record<string, string> };
    expect(container.envFrom!.map((e) => e.configMapRef?.name).filter(Boolean)).toEqual([configMap.metadata.name]);
    expect(JSON.parse(configMap.data['config.json'])).toBeTypeOf('object');
    expect(configMap.data.PIE_STORE).toMatch(/^s3:\/\//);
    const text = readdirSync(k8sDir).map((f) => readFileSync(join(k8sDir, f), 'utf8')).join('\n');
    expect(text).not.toMatch(/^\s*-?\s*(name:\s*)?(AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|AWS_SESSION_TOKEN)\b\s*:?/m);
    expect(text).not.toMatch(/AKIA[0-9A-Z]{16}/);
  });

  it('the kustomization lists every manifest and names the container image', () => {
    const k = parseAllDocuments(readFileSync(join(k8sDir, 'kustomization.yaml'), 'utf8'))[0].toJS() as { resources: string[]; images: { name: string }[] };
    expect(k.resources.sort()).toEqual([...new Set(objects.map((o) => o.file))].sort());
    expect(k.images.map((i) => i.name)).toEqual([container.image]);
  });
});

describe('trainer image (infra/docker/Dockerfile)', () => {
  const dockerfile = readFileSync(join(root, 'infra/docker/Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const lines = dockerfile.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

  it('copies only what exists in the repository, from pinned base images', () => {
    for (const line of lines.filter((l) => /^COPY\s/.test(l) && !l.includes('--from='))) {
      const sources = line.split(/\s+/).slice(1, -1);
      for (const s of sources) expect(existsSync(join(root, s)), line).toBe(true);
    }
    for (const line of lines.filter((l) => /^FROM\s/.test(l))) expect(line, line).toMatch(/^FROM \S+:\S+(?<!:latest)( AS \w+)?$/);
  });

  it('installs the tfjs-node-gpu release that matches the project\'s TensorFlow.js', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const core = pkg.dependencies['@tensorflow/tfjs-core'].replace(/^\D+/, '');
    expect(dockerfile).toContain(`@tensorflow/tfjs-node-gpu@${core}`);
    expect(dockerfile).toMatch(/dataset-fashion-mnist/);
  });
});

describe('AWS Batch array job (infra/aws-batch)', () => {
  const def = JSON.parse(readFileSync(join(root, 'infra/aws-batch/job-definition.json'), 'utf8'));
  const submit = JSON.parse(readFileSync(join(root, 'infra/aws-batch/submit-job.json'), 'utf8'));

  it('one array child per shard, each with a GPU, retried on its own', () => {
    const shards = Number(def.containerProperties.environment.find((e: { name: string }) => e.name === 'SHARDS').value);
    expect(submit.arrayProperties.size).toBe(shards);
    expect(submit.jobDefinition).toBe(def.jobDefinitionName);
    expect(def.containerProperties.resourceRequirements).toContainEqual({ type: 'GPU', value: '1' });
    expect(def.retryStrategy.attempts).toBeGreaterThan(1);
    const script = def.containerProperties.command.at(-1) as string;
    expect(script).toMatch(/--shard "\$AWS_BATCH_JOB_ARRAY_INDEX\/\$SHARDS"/);
    expect(unknownFlags(script.replace(/^RUN_ID=\S+ && /, ''))).toEqual([]);
  });
});

describe('Workers deployment (wrangler.toml)', () => {
  it('builds for every environment, each with its R2 binding', () => {
    for (const env of ['staging', 'production']) {
      const outdir = mkdtempSync(join(tmpdir(), `pie-worker-${env}-`));
      const r = spawnSync(process.execPath, [join(root, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--env', env, '--outdir', outdir],
        { cwd: root, encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' }, timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/env\.RUNS \(pie-lens-runs[\w-]*\)\s+R2 Bucket/);
    }
  }, 240_000);
});
