// Every key the workstation answers to, by where it works: the list the shortcuts sheet (?) shows
// and the hint line under each screen draws from. A key added to a screen is added here too. The
// screens' Alt+1, Alt+2… depend on which screens a person has; the sheet adds them.

export interface Shortcut {
  /** The keys, each as printed on the keyboard; alternatives are separate entries. */
  keys: readonly string[];
  does: string;
}

export interface ShortcutGroup {
  id: 'everywhere' | 'queue' | 'sign' | 'audit' | 'diary' | 'builds' | 'admin';
  title: string;
  shortcuts: readonly Shortcut[];
}

export const shortcutGroups: readonly ShortcutGroup[] = [
  {
    id: 'everywhere',
    title: 'Everywhere',
    shortcuts: [
      { keys: ['?'], does: 'Show these keyboard shortcuts (not while typing in a field)' },
      { keys: ['Tab', 'Shift+Tab'], does: 'Move to the next or previous control; a long list is one stop' },
      { keys: ['Esc'], does: 'Close the dialog or the panel that is open' },
    ],
  },
  {
    id: 'queue',
    title: 'Queue',
    shortcuts: [
      { keys: ['j', '↓'], does: 'Move the cursor to the next record' },
      { keys: ['k', '↑'], does: 'Move the cursor to the previous record' },
      { keys: ['Space'], does: 'Select or unselect the record under the cursor' },
      {
        keys: ['Enter'],
        does: 'Open the record under the cursor beside the queue (changes nothing on the server)',
      },
      {
        keys: ['r'],
        does: 'Open the shown record (else the one under the cursor) for review: an audited step',
      },
      { keys: ['s'], does: 'Sign the selected records that are in review' },
      { keys: ['/'], does: 'Search the queue' },
      { keys: ['Esc'], does: 'Leave the search field, or close the open record' },
    ],
  },
  {
    id: 'sign',
    title: 'Signing dialog',
    shortcuts: [
      { keys: ['Tab'], does: 'Move through the manifest, the meaning, password and code' },
      { keys: ['Enter'], does: 'Sign, once the meaning, password and code are filled in' },
      { keys: ['Esc'], does: 'Cancel: nothing is signed' },
    ],
  },
  {
    id: 'audit',
    title: 'Provenance and audit',
    shortcuts: [
      { keys: ['←', '→'], does: 'Switch between Audit log, Provenance and Signatures (on a tab)' },
      { keys: ['j', '↓'], does: 'Next row of the table' },
      { keys: ['k', '↑'], does: 'Previous row of the table' },
      { keys: ['Home', 'End'], does: 'First or last row loaded' },
      { keys: ['Page Down', 'Page Up'], does: 'A screenful down or up' },
      { keys: ['Enter'], does: 'Open the audit entry of the row' },
      { keys: ['Esc'], does: 'Close the entry or the record trail beside the table' },
    ],
  },
  {
    id: 'diary',
    title: 'Diaries',
    shortcuts: [
      { keys: ['j', '↓'], does: 'Next patient, record or outbox item in a list' },
      { keys: ['k', '↑'], does: 'Previous one' },
      { keys: ['Home', 'End'], does: 'First or last in the list' },
      { keys: ['Page Down', 'Page Up'], does: 'A screenful down or up' },
      { keys: ['Enter', 'Space'], does: 'Open the patient or record' },
      { keys: ['Ctrl+Enter'], does: 'Add the note, query or reply being written' },
      { keys: ['Esc'], does: 'Cancel the reply being written' },
    ],
  },
  {
    id: 'builds',
    title: 'Protocol builds',
    shortcuts: [
      {
        keys: ['Tab', 'Shift+Tab'],
        does: 'Move between the study, the builds, the comparison and the detail',
      },
      { keys: ['Enter'], does: 'Show the build whose number has the focus (its errors, forms and fields)' },
      { keys: ['Enter'], does: 'Compare the two builds chosen (on Compare)' },
    ],
  },
  {
    id: 'admin',
    title: 'Administration',
    shortcuts: [
      {
        keys: ['←', '→'],
        does: 'Switch between People, Security alerts and Role-change requests (on a tab)',
      },
      { keys: ['Tab', 'Shift+Tab'], does: 'Move through the filters, the list and its actions' },
      { keys: ['Enter'], does: 'Open the action of the focused button (its dialog asks for a reason)' },
      { keys: ['Esc'], does: 'Close the dialog: nothing is changed' },
    ],
  },
];

/** The few keys of a screen shown in the hint line under it (the sheet has them all). */
export const screenHints: Record<
  'queue' | 'audit' | 'diary' | 'analysis' | 'builds' | 'admin',
  readonly Shortcut[]
> = {
  queue: [
    { keys: ['j', 'k'], does: 'move' },
    { keys: ['Space'], does: 'select' },
    { keys: ['Enter'], does: 'open' },
    { keys: ['r'], does: 'review' },
    { keys: ['s'], does: 'sign' },
    { keys: ['/'], does: 'search' },
  ],
  audit: [
    { keys: ['j', 'k'], does: 'move in a table' },
    { keys: ['Enter'], does: 'open the entry' },
    { keys: ['←', '→'], does: 'switch tabs' },
    { keys: ['Esc'], does: 'close the side panel' },
  ],
  diary: [
    { keys: ['j', 'k'], does: 'move in a list' },
    { keys: ['Enter'], does: 'open' },
    { keys: ['Ctrl+Enter'], does: 'add the annotation' },
  ],
  analysis: [
    { keys: ['j', 'k'], does: 'move in the table' },
    { keys: ['Tab'], does: 'filters and export' },
  ],
  builds: [
    { keys: ['Tab'], does: 'move' },
    { keys: ['Enter'], does: 'show the build, or compare' },
  ],
  admin: [
    { keys: ['←', '→'], does: 'switch sections' },
    { keys: ['Enter'], does: 'act' },
    { keys: ['Esc'], does: 'close the dialog' },
  ],
};
