// The package under test: `npm pack` of the checkout (its dist/ as built), as a
// user would install it from a tarball.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './commands.mjs';
import { AppReport, seconds } from './report.mjs';

/** Packs the checkout at `root` into `destination`; resolves the tarball's path, or undefined (reported) when it failed. */
export async function pack(root, destination, totals) {
  const report = new AppReport({ name: 'package' }, totals);
  const packed = await run('npm', ['pack', '--pack-destination', destination, '--loglevel=error'], { cwd: root });
  const tarballs = (await readdir(destination)).filter((name) => name.endsWith('.tgz'));
  if (packed.code !== 0 || tarballs.length !== 1) {
    report.fail('npm pack', `exit ${packed.code}, ${tarballs.length} tarballs`, packed.output);
    report.flush();
    return undefined;
  }
  const tarball = join(destination, tarballs[0]);
  const { size } = await stat(tarball);
  report.pass('npm pack', `${tarballs[0]}, ${Math.round(size / 1024)} kB, ${seconds(packed.ms)}`);
  report.flush();
  return tarball;
}
