/**
 * The store of a `library-memory` or `peer-memory` app, which lives in the
 * app's own memory: the orchestrator empties it before each window (the
 * `reset` command), as it empties the tables and the Redis keys of the others.
 */
export class InProcessStore<T extends object> {
  /** The instance the app was given: it stays the same, only its state is renewed. */
  readonly store: T;

  /**
   * @param create makes an empty store, as the app would (its defaults)
   * @param isEmpty when the store can tell, whether it holds no record: checked after each reset
   */
  constructor(
    private readonly create: () => T,
    private readonly isEmpty?: (store: T) => boolean,
  ) {
    this.store = create();
  }

  /**
   * Empties {@link store} in place: its own fields are replaced by those of a
   * new empty instance, so that the app (which holds the instance) and the
   * store's class stay as they are, with no wrapper in the request path.
   */
  reset(): void {
    Object.assign(this.store, this.create());
    if (this.isEmpty && !this.isEmpty(this.store)) {
      throw new Error(`${this.store.constructor.name} keeps its records outside its own fields: the bench cannot empty it`);
    }
  }
}
