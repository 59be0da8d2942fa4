/** The benchmark scripts' command lines (node:util parseArgs), with a --help that lists every option and its default. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = Record<string, { type: 'string' | 'boolean'; default?: string | boolean; short?: string }>;

/**
 * Parses process.argv for `options` plus --help/-h. With --help: prints `usage` and each option
 * with its default, then exits 0. An unknown or malformed option: the message and the usage, exit 2.
 */
export function benchArgs<O extends Options>(usage: string, options: O) {
  const all = { ...options, help: { type: 'boolean', short: 'h', default: false } } as const;
  const text = () => [usage, '', 'Options:',
    ...Object.entries(options).map(([name, o]) => `  --${name}${o.type === 'string' ? ' <value>' : ''}${o.default !== undefined && o.default !== false ? `  (default: ${o.default})` : ''}`),
    '  -h, --help'].join('\n');
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    values = parseArgs({ options: all as NonNullable<ParseArgsConfig['options']>, args: process.argv.slice(2) }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${text()}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(text());
    process.exit(0);
  }
  return values as unknown as { [K in keyof O]: O[K]['type'] extends 'boolean' ? boolean : string };
}
