import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Problem } from './api';

export const toProblem = (error: unknown): Problem =>
  error instanceof ApiError
    ? error.problem
    : { title: 'Something went wrong', status: 0, detail: error instanceof Error ? error.message : String(error) };

/** A problem as the API states it: title and detail, announced to screen readers. */
export const ProblemView = ({ error }: { error: unknown }) => {
  if (!error) return null;
  const p = toProblem(error);
  return (
    <div class="problem" role="alert">
      <strong>{p.title}</strong>
      {p.detail ? <p>{p.detail}</p> : null}
      {p.code ? <p class="muted">code: {p.code}</p> : null}
    </div>
  );
};

/** Loads data for a screen; `reload` runs it again. */
export const useLoad = <T,>(load: () => Promise<T>, deps: unknown[]) => {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  // The caller lists what the load depends on.
  const reload = useCallback(() => {
    const mine = ++generation.current;
    setLoading(true);
    return load().then(
      (value) => {
        if (mine !== generation.current) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (mine !== generation.current) return;
        setError(e);
        setLoading(false);
      },
    );
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, loading, reload };
};

/** Runs an action from a form or button, keeping its error to show. */
export const useAction = () => {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async <T,>(action: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await action();
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, setError };
};

/** The screen's heading; it takes focus when the screen changes, so keyboard and screen-reader users land on it. */
export const Title = ({ children }: { children: ComponentChildren }) => {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
};

export const Loading = ({ what }: { what: string }) => (
  <p class="muted" role="status">
    Loading {what}…
  </p>
);
