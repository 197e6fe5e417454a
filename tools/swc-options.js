// How this repository's TypeScript is compiled outside tsc: by @swc/jest in
// Jest, and by the module hooks of the multi-instance workers.

/** @type {import('@swc/core').Options} */
export const swcOptions = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    keepClassNames: true,
    target: 'es2022',
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};
