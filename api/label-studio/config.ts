import { BadInput } from '../errors.ts';

/** One `<Choice>` of the control: its value and the model class names it stands for. */
export interface ConfigChoice {
  value: string;
  /** `predicted_values="a, b"`: model class names that map to this choice (label-studio-ml-backend convention). */
  predictedValues: string[];
}

/** What a prediction needs from a Label Studio labeling config: `<Choices>` over an `<Image>`. */
export interface LabelConfig {
  /** The Choices control's `name`: a prediction's `from_name`. */
  fromName: string;
  /** The Image tag's `name`: a prediction's `to_name`. */
  toName: string;
  /** Where a task keeps its image: the data key of `value="$image"`, or a literal URL. */
  image: { dataKey: string } | { url: string };
  choices: ConfigChoice[];
}

interface Tag { name: string; attrs: Record<string, string>; parent: Tag | null }

// A tag scanner rather than an XML parser: Workers have no DOMParser, and a labeling config
// only needs three tags and their attributes read. It skips comments, CDATA and processing
// instructions, reads quoted attribute values whole (so `>` inside one does not end the tag),
// and keeps the nesting so a <Choice> belongs to the <Choices> around it. Label Studio itself
// requires well-formed XML here, which is what makes attribute-level scanning sufficient.
const SKIPPED = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>/gi;
const TAG = /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>=`]+))?)*)\s*(\/?)>/g;
const ATTR = /([^\s=>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>=`]+)))?/g;
const ENTITY = /&(?:#(\d+)|#x([0-9a-f]+)|(amp|lt|gt|quot|apos));/gi;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  return s.replace(ENTITY, (m, dec: string | undefined, hex: string | undefined, named: string | undefined) => {
    if (named) return NAMED[named.toLowerCase()];
    const cp = dec ? Number(dec) : parseInt(hex!, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}

function scanTags(xml: string): Tag[] {
  const out: Tag[] = [];
  const stack: Tag[] = [];
  for (const m of xml.replace(SKIPPED, '').matchAll(TAG)) {
    const [, closing, rawName, rawAttrs, selfClosing] = m;
    const name = rawName.toLowerCase();
    if (closing) {
      const at = stack.map((t) => t.name).lastIndexOf(name);
      if (at >= 0) stack.length = at;
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of rawAttrs.matchAll(ATTR)) attrs[a[1]] = decodeEntities(a[2] ?? a[3] ?? a[4] ?? '');
    const tag: Tag = { name, attrs, parent: stack.at(-1) ?? null };
    out.push(tag);
    if (!selfClosing) stack.push(tag);
  }
  return out;
}

const list = (s: string | undefined) => (s ?? '').split(',').map((v) => v.trim()).filter(Boolean);

/**
 * Reads the first `<Choices>` control whose `toName` names an `<Image>` tag, the way a Label
 * Studio image-classification config is written:
 * `<View><Image name="image" value="$image"/><Choices name="label" toName="image"><Choice value="Cat"/>…`
 * Throws BadInput naming what is missing.
 */
export function parseLabelConfig(xml: string): LabelConfig {
  const tags = scanTags(xml);
  if (!tags.length) throw new BadInput('label config is not XML: expected <View> with an <Image> and a <Choices> control', 'bad_label_config');
  const images = new Map(tags.filter((t) => t.name === 'image' && t.attrs.name).map((t) => [t.attrs.name, t]));
  if (!images.size) throw new BadInput('label config has no <Image name=… value=…> tag: this backend classifies images', 'bad_label_config');
  const control = tags.find((t) => t.name === 'choices' && t.attrs.name && list(t.attrs.toName).some((n) => images.has(n)));
  if (!control) {
    throw new BadInput(`label config has no <Choices> control whose toName is an <Image> (images: ${[...images.keys()].join(', ')})`, 'bad_label_config');
  }
  const toName = list(control.attrs.toName).find((n) => images.has(n))!;
  const value = images.get(toName)!.attrs.value ?? '';
  if (!value) throw new BadInput(`<Image name="${toName}"> has no value attribute (e.g. value="$image")`, 'bad_label_config');
  // A <Choice> may sit in a layout <View> inside its <Choices>.
  const owner = (t: Tag) => { let p = t.parent; while (p && p.name !== 'choices') p = p.parent; return p; };
  const choices = tags
    .filter((t) => t.name === 'choice' && t.attrs.value !== undefined && owner(t) === control)
    .map((t) => ({ value: t.attrs.value, predictedValues: list(t.attrs.predicted_values) }));
  return {
    fromName: control.attrs.name,
    toName,
    image: value.startsWith('$') ? { dataKey: value.slice(1) } : { url: value },
    choices,
  };
}

/**
 * Model class index → choice value, or null where no choice matches. An operator's class map
 * (PIE_LABEL_STUDIO_CLASS_MAP: class name → choice value) comes first; then the precedence of
 * label-studio-ml-backend's `LabelStudioMLBase.build_label_map` (label_studio_ml/model.py):
 * a choice's `predicted_values`, then the exact class name, then the name ignoring case.
 */
export function choiceForClass(classNames: readonly string[], choices: readonly ConfigChoice[], classMap: Readonly<Record<string, string>> = {}): (string | null)[] {
  const out: (string | null)[] = classNames.map(() => null);
  const values = new Set(choices.map((ch) => ch.value));
  const mapped = new Set<number>();
  classNames.forEach((name, c) => {
    const v = classMap[name];
    if (v === undefined) return;
    mapped.add(c);
    if (values.has(v)) out[c] = v;
  });
  const lower = classNames.map((n) => n.toLowerCase());
  const set = (c: number, v: string) => { if (!mapped.has(c)) out[c] = v; };
  for (const choice of choices) {
    const named = choice.predictedValues.map((v) => classNames.indexOf(v)).filter((c) => c >= 0);
    if (named.length) {
      for (const c of named) set(c, choice.value);
      continue;
    }
    const exact = classNames.indexOf(choice.value);
    const c = exact >= 0 ? exact : lower.indexOf(choice.value.toLowerCase());
    if (c >= 0) set(c, choice.value);
  }
  return out;
}

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[ch]!);

/** Above this many classes a generated config lists its choices collapsed, behind a search box. */
export const FILTER_ABOVE_CLASSES = 20;

/**
 * A Label Studio labeling config for a run: one `<Choice>` per class name over an `<Image>`
 * whose URL is the task's `image` field. A run of many classes (ImageNet's 1000) gets Label
 * Studio's `<Filter>` tag bound to the choices, so an annotator types to find a class instead
 * of scrolling one long list, and the choices are not shown inline.
 */
export function labelConfigFor(classNames: readonly string[]): string {
  const many = classNames.length > FILTER_ABOVE_CLASSES;
  return [
    '<View>',
    '  <Image name="image" value="$image" zoom="true"/>',
    many ? `  <Filter name="class_filter" toName="label" minlength="1" hotkey="shift+f" placeholder="Search ${classNames.length} classes"/>` : null,
    `  <Choices name="label" toName="image" choice="single" showInline="${many ? 'false' : 'true'}">`,
    ...classNames.map((n) => `    <Choice value="${escapeXml(n)}"/>`),
    '  </Choices>',
    '</View>',
  ].filter((l) => l !== null).join('\n');
}

/** How a config's choices line up with a run's classes. */
export interface ChoiceMatch {
  choiceOf: (string | null)[];
  /** Classes no choice stands for: their predictions would be empty. */
  missing: string[];
  /** Choices no class maps to. */
  extra: string[];
  /** Class map entries that name no class of the run, or map to a value that is not a choice. */
  badMap: string[];
}

export function matchChoices(classNames: readonly string[], choices: readonly ConfigChoice[], classMap: Readonly<Record<string, string>> = {}): ChoiceMatch {
  const choiceOf = choiceForClass(classNames, choices, classMap);
  const used = new Set(choiceOf.filter((v): v is string => v !== null));
  const values = new Set(choices.map((ch) => ch.value));
  const badMap = Object.entries(classMap).flatMap(([cls, v]) => [
    ...(classNames.includes(cls) ? [] : [`"${cls}" is not a class`]),
    ...(values.has(v) ? [] : [`"${v}" is not a choice`]),
  ]);
  return {
    choiceOf,
    missing: classNames.filter((_, c) => choiceOf[c] === null),
    extra: choices.map((ch) => ch.value).filter((v) => !used.has(v)),
    badMap,
  };
}

const quoteList = (xs: string[], max = 8) =>
  xs.slice(0, max).map((x) => `"${x}"`).join(', ') + (xs.length > max ? ` and ${xs.length - max} more` : '');

/**
 * Refuses a config whose choices leave some of the run's classes without a choice: each such
 * image would be stored with an empty result. Extra choices (an "Other", "Unsure") are fine.
 */
export function checkChoices(runId: string, classNames: readonly string[], config: LabelConfig, classMap: Readonly<Record<string, string>> = {}): ChoiceMatch {
  const m = matchChoices(classNames, config.choices, classMap);
  if (m.missing.length || m.badMap.length) {
    const parts = [
      m.missing.length ? `missing (classes of run ${runId} with no <Choice>): ${quoteList(m.missing)}` : '',
      m.extra.length ? `extra (choices that are no class): ${quoteList(m.extra)}` : '',
      m.badMap.length ? `PIE_LABEL_STUDIO_CLASS_MAP: ${m.badMap.slice(0, 8).join(', ')}` : '',
    ].filter(Boolean);
    throw new BadInput(
      `the choices of <Choices name="${config.fromName}"> do not match the run's classes: ${parts.join('; ')}. ` +
      'Name each choice like a class, add predicted_values="<class>" to a <Choice>, or set PIE_LABEL_STUDIO_CLASS_MAP',
      'choices_mismatch',
    );
  }
  return m;
}

/** PIE_LABEL_STUDIO_CLASS_MAP: a JSON object of class name → choice value. */
export function parseClassMap(text: string | undefined): Record<string, string> | undefined {
  if (!text?.trim()) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`PIE_LABEL_STUDIO_CLASS_MAP is not JSON (expected {"class name": "choice value", …}): ${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    throw new Error('PIE_LABEL_STUDIO_CLASS_MAP must be a JSON object of class name → choice value strings');
  }
  return v as Record<string, string>;
}
