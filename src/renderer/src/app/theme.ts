// The colour theme: the person's choice (System, Light, Dark, High contrast), kept in this
// renderer's localStorage (a preference, not a secret), resolved to the theme the stylesheet draws
// (`<html data-theme="light|dark|contrast">`). System follows the operating system: forced colours
// or a request for more contrast give high contrast, a dark colour scheme gives dark.
import { useEffect, useState } from 'react';

export const themeChoices = [
  { id: 'system', label: 'System' },
  { id: 'light', label: 'Light' },
  { id: 'dark', label: 'Dark' },
  { id: 'contrast', label: 'High contrast' },
] as const;
export type ThemeChoice = (typeof themeChoices)[number]['id'];
export type Theme = Exclude<ThemeChoice, 'system'>;

const storageKey = 'countersign.theme';

export interface SystemPreferences {
  dark: boolean;
  moreContrast: boolean;
  forcedColors: boolean;
}

export function resolveTheme(choice: ThemeChoice, system: SystemPreferences): Theme {
  if (choice !== 'system') return choice;
  if (system.forcedColors || system.moreContrast) return 'contrast';
  return system.dark ? 'dark' : 'light';
}

function isThemeChoice(value: unknown): value is ThemeChoice {
  return themeChoices.some((choice) => choice.id === value);
}

export function readThemeChoice(): ThemeChoice {
  try {
    const stored = window.localStorage.getItem(storageKey);
    return isThemeChoice(stored) ? stored : 'system';
  } catch {
    // Storage refused (a locked-down profile): the system's preference still applies.
    return 'system';
  }
}

function saveThemeChoice(choice: ThemeChoice): void {
  try {
    window.localStorage.setItem(storageKey, choice);
  } catch {
    // Not remembered, still applied.
  }
}

const queries = {
  dark: '(prefers-color-scheme: dark)',
  moreContrast: '(prefers-contrast: more)',
  forcedColors: '(forced-colors: active)',
} as const;

function systemPreferences(): SystemPreferences {
  return {
    dark: window.matchMedia(queries.dark).matches,
    moreContrast: window.matchMedia(queries.moreContrast).matches,
    forcedColors: window.matchMedia(queries.forcedColors).matches,
  };
}

/** Sets the theme on the document; called before the first render, so no frame shows another one. */
export function applyTheme(choice: ThemeChoice): Theme {
  const theme = resolveTheme(choice, systemPreferences());
  document.documentElement.dataset.theme = theme;
  document.documentElement.dataset.themeChoice = choice;
  return theme;
}

/** The person's choice and a setter that applies and remembers it; follows the system while "System". */
export function useThemeChoice(): [ThemeChoice, (choice: ThemeChoice) => void] {
  const [choice, setChoice] = useState<ThemeChoice>(readThemeChoice);

  useEffect(() => {
    applyTheme(choice);
    if (choice !== 'system') return;
    const lists = Object.values(queries).map((query) => window.matchMedia(query));
    const follow = () => applyTheme('system');
    for (const list of lists) list.addEventListener('change', follow);
    return () => {
      for (const list of lists) list.removeEventListener('change', follow);
    };
  }, [choice]);

  const choose = (next: ThemeChoice) => {
    saveThemeChoice(next);
    setChoice(next);
  };
  return [choice, choose];
}
