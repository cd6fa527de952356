// Runs a contract call for a screen and keeps its error worded for the person: `run` resolves to the
// answer, or to null after setting `error`. A later success clears the error.
import { useCallback, useState } from 'react';
import { messageOf } from './messageOf';

export type Runner = <T>(action: () => Promise<T>) => Promise<T | null>;

export function useAction(): { error: string | null; run: Runner } {
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async <T>(action: () => Promise<T>): Promise<T | null> => {
    try {
      const result = await action();
      setError(null);
      return result;
    } catch (caught) {
      setError(messageOf(caught));
      return null;
    }
  }, []) as Runner;
  return { error, run };
}
