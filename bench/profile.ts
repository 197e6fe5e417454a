import { readFile } from 'node:fs/promises';

/** The parts of a V8 `.cpuprofile` read here. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** Time of one frame or area, as a share of the profile. */
export interface ProfileLine {
  name: string;
  percent: number;
}

/** What `--cpu-prof` prints for one scenario. */
export interface ProfileSummary {
  /** Frames by self time. */
  self: ProfileLine[];
  /** Self time by package (`node_modules/<name>`), `lib` (this library), `bench`, `node`, or V8's own. */
  areas: ProfileLine[];
  /** Frames of this library by inclusive time (anywhere on the stack). */
  library: ProfileLine[];
}

/**
 * Summarizes `.cpuprofile` files (the windows of one scenario) together: top
 * frames by self time, time by area, and the library's frames.
 */
export async function summarizeProfiles(files: string[], top = 15): Promise<ProfileSummary> {
  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  const library = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
    total += tally(profile, self, areas, library);
  }
  const lines = (map: Map<string, number>, n: number) =>
    [...map]
      .sort(([, a], [, b]) => b - a)
      .slice(0, n)
      .map(([name, time]) => ({ name, percent: (100 * time) / total }));
  return { self: lines(self, top), areas: lines(areas, 12), library: lines(library, top) };
}

/** Adds the non-idle time of `profile` to the maps; returns that time. */
function tally(
  profile: CpuProfile,
  self: Map<string, number>,
  areas: Map<string, number>,
  library: Map<string, number>,
): number {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') return;
    total += delta;
    add(self, frameName(frame), delta);
    add(areas, area(frame.url, frame.functionName), delta);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const callFrame = byId.get(at)!.callFrame;
      if (area(callFrame.url, callFrame.functionName) !== 'lib') continue;
      const name = frameName(callFrame);
      if (seen.has(name)) continue;
      seen.add(name);
      add(library, name, delta);
    }
  });
  return total;
}

/** Printable summary. */
export function formatProfile(summary: ProfileSummary): string {
  const block = (title: string, lines: ProfileLine[]) =>
    [title, ...lines.map((l) => `  ${l.percent.toFixed(1).padStart(5)}%  ${l.name}`)].join('\n');
  return [
    block('self time, top frames (share of non-idle samples):', summary.self),
    block('self time by area:', summary.areas),
    block('nestjs-idempotency frames, inclusive:', summary.library),
  ].join('\n');
}

function add(map: Map<string, number>, key: string, value: number): void {
  map.set(key, (map.get(key) ?? 0) + value);
}

function frameName(frame: { functionName: string; url: string; lineNumber: number }): string {
  const where = frame.url ? ` ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'}${where}`;
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules !== -1) return url.slice(modules + 'node_modules/'.length);
  const dist = url.indexOf('/dist-bench/');
  return dist !== -1 ? url.slice(dist + '/dist-bench/'.length) : url.replace(/^file:\/\//, '');
}

function area(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : 'node (native)';
  if (url.startsWith('node:')) return 'node';
  const modules = url.lastIndexOf('node_modules/');
  if (modules !== -1) {
    const [first, second] = url.slice(modules + 'node_modules/'.length).split('/');
    return first.startsWith('@') ? `${first}/${second}` : first;
  }
  if (url.includes('/dist-bench/lib/')) return 'lib';
  if (url.includes('/dist-bench/bench/')) return 'bench';
  return 'other';
}
