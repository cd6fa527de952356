// Administration (admins only): the people and their access, the security alerts the lockouts raise
// (with unlock), and the role changes waiting for a second administrator. One section at a time,
// chosen by tabs (← → move between them, as on the audit screen); every write is checked again by
// the server, which is the authority for who may administer.
import { type KeyboardEvent, useRef, useState } from 'react';
import { AlertsSection } from './AlertsSection';
import { PeopleSection } from './PeopleSection';
import { RoleRequestsSection } from './RoleRequestsSection';

const sections = [
  { id: 'people', label: 'People' },
  { id: 'alerts', label: 'Security alerts' },
  { id: 'requests', label: 'Role-change requests' },
] as const;
type SectionId = (typeof sections)[number]['id'];

export function AdminScreen() {
  const [section, setSection] = useState<SectionId>('people');
  const tabRefs = useRef<Record<SectionId, HTMLButtonElement | null>>({
    people: null,
    alerts: null,
    requests: null,
  });

  const moveTab = (event: KeyboardEvent, index: number) => {
    const delta = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (delta === 0) return;
    event.preventDefault();
    const next = sections[(index + delta + sections.length) % sections.length] as (typeof sections)[number];
    setSection(next.id);
    tabRefs.current[next.id]?.focus();
  };

  return (
    <section className="admin-screen" aria-labelledby="admin-heading">
      <h1 id="admin-heading">Administration</h1>
      <div className="admin-tabs" role="tablist" aria-label="Administration sections">
        {sections.map((item, index) => (
          <button
            key={item.id}
            ref={(element) => {
              tabRefs.current[item.id] = element;
            }}
            type="button"
            role="tab"
            id={`admin-tab-${item.id}`}
            aria-selected={section === item.id}
            aria-controls={`admin-panel-${item.id}`}
            tabIndex={section === item.id ? 0 : -1}
            className={section === item.id ? 'admin-tab is-current' : 'admin-tab'}
            onClick={() => setSection(item.id)}
            onKeyDown={(event) => moveTab(event, index)}
          >
            {item.label}
          </button>
        ))}
      </div>
      {sections.map((item) => (
        <div
          key={item.id}
          id={`admin-panel-${item.id}`}
          role="tabpanel"
          aria-labelledby={`admin-tab-${item.id}`}
          hidden={section !== item.id}
          className="admin-panel"
        >
          {section === item.id && item.id === 'people' && <PeopleSection />}
          {section === item.id && item.id === 'alerts' && <AlertsSection />}
          {section === item.id && item.id === 'requests' && <RoleRequestsSection />}
        </div>
      ))}
    </section>
  );
}
