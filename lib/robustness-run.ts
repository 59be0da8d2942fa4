import { z } from 'zod';
import { seedFor } from './random.ts';

// What a run records of its corrupted test sets and attribute file, shared by the trainer (which
// writes them) and the API (which recomputes a corrupted image from the stored clean one).

/** A corrupted test set's key: name-severity, e.g. motion_blur-3. */
export const setKey = (corruption: string, severity: number) => `${corruption}-${severity}`;

/**
 * The seed image i is corrupted with in set `key`: independent per image, so one image can be
 * recomputed alone (the API's image.png?corruption=) and the result does not depend on batching.
 */
export function corruptionSeed(base: number, key: string, image: number): number {
  return seedFor(base, 'corrupt', key, image);
}

export const ROBUSTNESS_FILES = {
  predictions: (key: string) => `robustness/${key}.bin`,
  analysis: 'robustness/analysis.json',
  attributes: 'attributes.csv',
  subgroups: 'subgroups.json',
} as const;

export const RobustnessBlockSchema = z.object({
  /** Base of every per-image corruption seed (corruptionSeed). */
  seed: z.number().int(),
  /** One prediction matrix [levels × K × N] per set, in the run's class width. */
  sets: z.array(z.object({ key: z.string(), corruption: z.string(), severity: z.number().int().min(1), path: z.string() })),
});

export const SubgroupsBlockSchema = z.object({
  /** The run's attributes file: header `image,<columns>`, row i = test image i. */
  attributes: z.string(),
  columns: z.array(z.string()),
  /** The file given to --attributes: its name and SHA-256 (the run keeps it normalised, by image index). */
  source: z.object({ file: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
});
