// What the suite prints: one line per check, one per app, and the closing
// `N passed, N failed`. An app's lines are printed together when it is done,
// so the apps running side by side do not interleave.
/* global console */
import { tail } from './commands.mjs';

export function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The checks of one app (or of the suite: `app.name` only). `flush()` prints them and the app's line. */
export class AppReport {
  constructor(app, totals) {
    this.app = app;
    this.totals = totals;
    this.parts = [];
    this.failures = 0;
    this.started = Date.now();
    this.main = this.part();
  }

  /**
   * A part of the report for checks that run beside others: its lines are
   * printed after those of the parts made before it, whenever they come.
   */
  part() {
    const lines = [];
    this.parts.push(lines);
    const name = this.app.name;
    return {
      /** A passed check (`detail`: e.g. its duration). */
      pass: (check, detail = '') => {
        this.totals.passed += 1;
        lines.push(`  PASS ${name}  ${check}${detail ? `  (${detail})` : ''}`);
      },
      /** A failed check, why, and the end of the output that explains it. */
      fail: (check, reason, output = '') => {
        this.totals.failed += 1;
        this.failures += 1;
        lines.push(`  FAIL ${name}  ${check}: ${reason}`);
        if (output.trim()) lines.push(tail(output));
      },
      /** A check not run because an earlier one failed; counted neither way. */
      skip: (check, because) => lines.push(`  skip ${name}  ${check} (${because})`),
      /** Text under the checks, e.g. the app's output after a failed probe. */
      note: (text) => lines.push(text),
    };
  }

  pass(check, detail) {
    this.main.pass(check, detail);
  }

  fail(check, reason, output) {
    this.main.fail(check, reason, output);
  }

  skip(check, because) {
    this.main.skip(check, because);
  }

  /** Prints the checks, then (for an app) its line: `<name> [<shape>]: ok|FAILED in <time>`. */
  flush() {
    const lines = this.parts.flat();
    const { name, nest, moduleSystem, adapter, store } = this.app;
    if (nest !== undefined) {
      const shape = `Nest ${nest}, ${moduleSystem.toUpperCase()}, ${adapter}, ${store} store`;
      const verdict = this.failures === 0 ? 'ok' : `FAILED (${this.failures} failed)`;
      lines.push(`${name} [${shape}]: ${verdict} in ${seconds(Date.now() - this.started)}`);
    }
    console.log(lines.join('\n'));
  }
}
