/** Injection token of the sample's {@link Database}. */
export const DATABASE = Symbol('DATABASE');
