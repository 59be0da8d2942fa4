import cliProgress from 'cli-progress';

export interface Phase {
  /** Advance by `delta` units. */
  tick(delta: number): void;
  done(summary?: string): void;
}

export interface Progress {
  phase(name: string, total: number, unit: string): Phase;
  log(line: string): void;
}

/**
 * A progress bar per phase with ETA (cli-progress), or — in quiet mode, for CI logs — one line
 * at each quarter of a phase and one at its end.
 */
export function createProgress(opts: { quiet: boolean; stream?: NodeJS.WriteStream }): Progress {
  const stream = opts.stream ?? process.stderr;
  const log = (line: string) => stream.write(`${line}\n`);
  return {
    log,
    phase(name, total, unit) {
      const started = performance.now();
      let value = 0;
      if (opts.quiet || !stream.isTTY) {
        let nextQuarter = 1;
        log(`${name}: ${total} ${unit}`);
        return {
          tick(delta) {
            value += delta;
            while (total > 0 && value >= (nextQuarter * total) / 4 && nextQuarter < 4) {
              log(`${name}: ${nextQuarter * 25}% (${((performance.now() - started) / 1000).toFixed(0)} s)`);
              nextQuarter++;
            }
          },
          done(summary) {
            log(`${name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s${summary ? ` — ${summary}` : ''}`);
          },
        };
      }
      const bar = new cliProgress.SingleBar({
        stream,
        format: `${name.padEnd(10)} [{bar}] {percentage}% | {value}/{total} ${unit} | ETA {eta_formatted} | {duration_formatted}`,
        hideCursor: true,
        etaBuffer: 50,
      }, cliProgress.Presets.shades_classic);
      bar.start(total, 0);
      return {
        tick(delta) { value += delta; bar.update(Math.min(value, total)); },
        done(summary) {
          bar.update(total);
          bar.stop();
          if (summary) log(`${name}: ${summary}`);
        },
      };
    },
  };
}
