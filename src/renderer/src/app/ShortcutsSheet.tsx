// The keyboard shortcuts sheet: every key of every screen (shortcuts.ts), opened with ? (the hook
// below) or the shell's button, in a modal <dialog> that Esc or Close dismisses, the focus returning
// where it was.
import { Fragment, useEffect, useRef } from 'react';
import { type Shortcut, type ShortcutGroup, shortcutGroups } from './shortcuts';

export function KeyCombination({ keys }: { keys: Shortcut['keys'] }) {
  return (
    <>
      {keys.map((key, index) => (
        <Fragment key={key}>
          {index > 0 && <span className="muted"> or </span>}
          <kbd>{key}</kbd>
        </Fragment>
      ))}
    </>
  );
}

/** Alt+1, Alt+2… for the screens a person has, in their tab order, before the other keys. */
function groupsWithScreenKeys(screenLabels: readonly string[]): readonly ShortcutGroup[] {
  const screenKeys: Shortcut[] = screenLabels.map((label, index) => ({
    keys: [`Alt+${index + 1}`],
    does: `Go to ${label}`,
  }));
  return shortcutGroups.map((group) =>
    group.id === 'everywhere' ? { ...group, shortcuts: [...screenKeys, ...group.shortcuts] } : group,
  );
}

export function ShortcutsSheet({
  screenLabels,
  onClose,
}: {
  /** The screens' names in their tab order (none when signed out). */
  screenLabels: readonly string[];
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    dialog.current?.showModal();
    return () => opener?.focus();
  }, []);

  return (
    <dialog
      ref={dialog}
      className="shortcuts-sheet"
      aria-labelledby="shortcuts-heading"
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <div className="detail-header">
        <h2 id="shortcuts-heading">Keyboard shortcuts</h2>
        <button type="button" className="button" onClick={onClose}>
          Close{' '}
          <span aria-hidden="true">
            <kbd>Esc</kbd>
          </span>
        </button>
      </div>
      <div className="shortcuts-groups">
        {groupsWithScreenKeys(screenLabels).map((group) => (
          <section key={group.id} className="shortcuts-group" aria-labelledby={`shortcuts-${group.id}`}>
            <h3 id={`shortcuts-${group.id}`}>{group.title}</h3>
            <dl className="shortcuts-list">
              {group.shortcuts.map((shortcut) => (
                <div key={`${shortcut.keys.join(' ')} ${shortcut.does}`} className="shortcuts-row">
                  <dt>
                    <KeyCombination keys={shortcut.keys} />
                  </dt>
                  <dd>{shortcut.does}</dd>
                </div>
              ))}
            </dl>
          </section>
        ))}
      </div>
    </dialog>
  );
}

function isTyping(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))
  );
}

/** ? opens the shortcuts sheet, except while typing or while another dialog is open. */
export function useShortcutsKey(open: () => void): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== '?' || event.ctrlKey || event.metaKey || event.altKey) return;
      if (isTyping(event.target) || document.querySelector('dialog[open]') !== null) return;
      event.preventDefault();
      open();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [open]);
}
