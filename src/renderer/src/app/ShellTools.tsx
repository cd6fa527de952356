// The shell's own controls beside the screens' tabs: the colour theme (System, Light, Dark, High
// contrast; theme.ts) and the button that opens the keyboard shortcuts sheet (also the ? key).
import { useId } from 'react';
import { type ThemeChoice, themeChoices } from './theme';

export function ShellTools({
  theme,
  onTheme,
  onShortcuts,
}: {
  theme: ThemeChoice;
  onTheme: (choice: ThemeChoice) => void;
  onShortcuts: () => void;
}) {
  const themeId = useId();
  return (
    <div className="shell-tools">
      <span className="inline-field shell-theme">
        <label htmlFor={themeId}>Theme</label>
        <select id={themeId} value={theme} onChange={(event) => onTheme(event.target.value as ThemeChoice)}>
          {themeChoices.map((choice) => (
            <option key={choice.id} value={choice.id}>
              {choice.label}
            </option>
          ))}
        </select>
      </span>
      <button type="button" className="button button-quiet" aria-keyshortcuts="?" onClick={onShortcuts}>
        Keyboard shortcuts{' '}
        <span aria-hidden="true">
          <kbd>?</kbd>
        </span>
      </button>
    </div>
  );
}
