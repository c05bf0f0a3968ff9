/**
 * Runs `load` on the first call and hands every caller the same promise; a failed load
 * is not kept, so the next call tries again. For code imported on first use (`import()`)
 * and what is built from it.
 */
export const loadOnce = <T>(load: () => Promise<T>): (() => Promise<T>) => {
  let loaded: Promise<T> | undefined;
  return () => {
    if (!loaded) {
      const attempt = load();
      loaded = attempt;
      attempt.catch(() => {
        if (loaded === attempt) loaded = undefined;
      });
    }
    return loaded;
  };
};
