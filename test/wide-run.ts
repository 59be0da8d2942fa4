/** The generated 1000-class run the tests share (built by test/global-setup.ts with lib/synthetic.ts). */
export const WIDE_RUN = { runId: 'wide-1000', numClasses: 1000, images: 3000, K: 5, sparsities: [0.5, 0.9], imageSize: 8, seed: 3 } as const;
