/** A generated lenet5 run (random CNN members, no training) for the live-predict tests on Node and workerd. */
export const CNN_RUN = {
  runId: 'cnn-synth', numClasses: 4, images: 40, K: 2, sparsities: [0.5, 0.9], imageSize: 16, seed: 5,
  arch: 'lenet5', quantizations: ['float16', 'int8-dynamic', 'int8-full'],
} as const;
