// Reading something from the API for a screen, again whenever ``deps`` change.
import { useEffect, useState } from "preact/hooks";
import type { Problem } from "./api/client";
import { problemOf } from "./ui";

export interface Loaded<T> {
  value: T | undefined;
  problem: Problem | null;
  reload: () => void;
}

export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (next) => {
        if (!live) return;
        setValue(next);
        setProblem(null);
      },
      (error: unknown) => live && setProblem(problemOf(error)),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  return { value, problem, reload: () => setTick((n) => n + 1) };
}
