/**
 * Layers option objects left to right, skipping `undefined` values, so an
 * option a factory left unset (e.g. `config.get('MISSING')`) keeps its default.
 */
export function resolveOptions<T extends object>(defaults: T, ...layers: (Partial<T> | undefined)[]): T {
  const resolved = { ...defaults } as Record<string, unknown>;
  for (const layer of layers) {
    for (const [name, value] of Object.entries(layer ?? {})) {
      if (value !== undefined) resolved[name] = value;
    }
  }
  return resolved as T;
}
