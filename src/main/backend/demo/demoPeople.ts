// The people of the embedded demo, as data. These are DEMO credentials, deliberately shown on the
// sign-in screen of the embedded backend (and nowhere else): they open only the demo database
// seeded by seedDemo.ts on this machine. Never reuse them for a real backend.
import type { AppRole } from '../../../shared/domain';

/** The two demo studies, by key (their codes and content are in demoContent.ts). */
export type DemoStudyKey = 'hht' | 'onc';

export const demoStudyCodes: Record<DemoStudyKey, string> = {
  hht: 'AUR-HHT-201',
  onc: 'NWO-ONC-301',
};

export interface DemoSite {
  siteId: string;
  siteName: string;
  siteNumber: string;
  study: DemoStudyKey;
}

/** Three diary sites: two in the HHT study, one in the oncology study. */
export const demoSites: readonly DemoSite[] = [
  {
    siteId: 'HHT-101',
    siteName: "St. Brigid's University Hospital, Dublin",
    siteNumber: '101',
    study: 'hht',
  },
  { siteId: 'HHT-102', siteName: 'Klinikum Nordhafen, Hamburg', siteNumber: '102', study: 'hht' },
  { siteId: 'ONC-301', siteName: 'Lakeshore Cancer Institute, Toronto', siteNumber: '301', study: 'onc' },
];

/** The sponsor organisations (cro.user_profile.sponsor_id = cro.sponsor_request.sponsor_id). */
export const demoSponsors: Record<DemoStudyKey, { sponsorId: string; name: string }> = {
  hht: { sponsorId: 'aurelia-therapeutics', name: 'Aurelia Therapeutics' },
  onc: { sponsorId: 'northwind-oncology', name: 'Northwind Oncology' },
};

/** The agent's id in provenance and staging (cro.provenance_event.actor_id, staging_record.agent_id). */
export const demoAgentId = 'agent:protocol-digest';

export interface DemoRoleGrant {
  role: AppRole;
  /** 'all': every study (cro.role_assignment.study_id null). */
  study: DemoStudyKey | 'all';
}

export type DemoDiaryAssignment =
  | { kind: 'patient'; siteId: string; subjectCode: string }
  | { kind: 'investigator'; siteIds: string[] }
  | { kind: 'analyst'; siteIds: string[] };

export interface DemoPerson {
  /** A stable short name used by the seeder and the tests. */
  key: string;
  email: string;
  printedName: string;
  password: string;
  roles: DemoRoleGrant[];
  sponsorId?: string;
  /** Agent service accounts: the agent id its provenance and proposals carry. */
  agentId?: string;
  /** Signers and admins: a fixed TOTP secret (RFC 4648 base32), so the demo can be signed with any authenticator. */
  totpSecretBase32?: string;
  diary?: DemoDiaryAssignment;
}

const both = (role: AppRole): DemoRoleGrant[] => [
  { role, study: 'hht' },
  { role, study: 'onc' },
];

const patient = (
  n: number,
  printedName: string,
  password: string,
  siteId: string,
  subjectCode: string,
  study: DemoStudyKey,
): DemoPerson => ({
  key: `patient${n}`,
  email: `patient.0${n}@countersign.demo`,
  printedName,
  password,
  roles: [{ role: 'patient', study }],
  diary: { kind: 'patient', siteId, subjectCode },
});

export const demoPeople: readonly DemoPerson[] = [
  {
    key: 'admin',
    email: 'admin@countersign.demo',
    printedName: 'Dana Whitfield',
    password: 'Admin-Harbour-2025',
    roles: [{ role: 'admin', study: 'all' }],
    // Admins re-authenticate (password + TOTP) for role approvals, unlocks and deactivations.
    totpSecretBase32: 'O5UGS5DGNFSWYZBNMFSG22LOFVQS2MBR',
  },
  {
    // The second administrator: role changes need another admin's approval (ADMIN-ROLE-CHANGE).
    key: 'admin2',
    email: 'admin.two@countersign.demo',
    printedName: 'Kwame Osei',
    password: 'Admin2-Lighthouse-2025',
    roles: [{ role: 'admin', study: 'all' }],
    totpSecretBase32: 'N5ZWK2JNMFSG22LOFVZWKY3PNZSC2MBS',
  },
  {
    key: 'signerA',
    email: 'signer.a@countersign.demo',
    printedName: 'Dr. Miriam Okafor',
    password: 'SignerA-Lantern-2025',
    roles: [{ role: 'signer', study: 'hht' }],
    totpSecretBase32: 'N5VWCZTPOIWWQ2DUFVZWSZ3OMVZC2MBR',
  },
  {
    key: 'signerB',
    email: 'signer.b@countersign.demo',
    printedName: 'Dr. Henrik Lindqvist',
    password: 'SignerB-Compass-2025',
    roles: [{ role: 'signer', study: 'onc' }],
    totpSecretBase32: 'NRUW4ZDROZUXG5BNN5XGGLLTNFTW4MBS',
  },
  {
    // Issue 21 (V1): the signer of the recovery-code walkthrough, whose authenticator it retires.
    key: 'signerC',
    email: 'signer.c@countersign.demo',
    printedName: 'Dr. Amara Nwosu',
    password: 'SignerC-Beacon-2025',
    roles: [{ role: 'signer', study: 'hht' }],
    totpSecretBase32: 'OJSWG33WMVZHSLLTNFTW4ZLSFVRS2MBR',
  },
  {
    // Issue 21 (V2): the signer of the unlock walkthrough, whom it locks out and an administrator unlocks.
    key: 'signerD',
    email: 'signer.d@countersign.demo',
    printedName: 'Dr. Tomás Reyes',
    password: 'SignerD-Harbour-2025',
    roles: [{ role: 'signer', study: 'onc' }],
    totpSecretBase32: 'MRSW233TNFTW4ZLSMQWWYYLOORSXEMBR',
  },
  {
    key: 'monitor',
    email: 'monitor@countersign.demo',
    printedName: 'Priya Raman',
    password: 'Monitor-Meadow-2025',
    roles: both('monitor'),
  },
  {
    key: 'coordinator',
    email: 'coordinator@countersign.demo',
    printedName: 'Lucas Moreau',
    password: 'Coordinator-Ferry-2025',
    roles: both('coordinator'),
  },
  {
    key: 'inspector',
    email: 'inspector@countersign.demo',
    printedName: 'Ingrid Halvorsen',
    password: 'Inspector-Glacier-2025',
    roles: both('inspector'),
  },
  {
    key: 'sponsorAurelia',
    email: 'sponsor.aurelia@countersign.demo',
    printedName: 'Rebecca Stein',
    password: 'Aurelia-Sponsor-Orchard',
    roles: [{ role: 'sponsor', study: 'hht' }],
    sponsorId: demoSponsors.hht.sponsorId,
  },
  {
    key: 'sponsorNorthwind',
    email: 'sponsor.northwind@countersign.demo',
    printedName: 'Kenji Watanabe',
    password: 'Northwind-Sponsor-Beacon',
    roles: [{ role: 'sponsor', study: 'onc' }],
    sponsorId: demoSponsors.onc.sponsorId,
  },
  {
    key: 'agent',
    email: 'agent@countersign.demo',
    printedName: 'Protocol Digest Agent (service account)',
    password: 'Agent-Service-Quill-2025',
    roles: both('agent'),
    agentId: demoAgentId,
  },
  {
    key: 'investigator101',
    email: 'investigator.101@countersign.demo',
    printedName: 'Dr. Sofia Marchetti',
    password: 'Investigator101-Heron',
    roles: [{ role: 'investigator', study: 'hht' }],
    diary: { kind: 'investigator', siteIds: ['HHT-101'] },
  },
  {
    key: 'investigator102',
    email: 'investigator.102@countersign.demo',
    printedName: 'Dr. Tomasz Kowalczyk',
    password: 'Investigator102-Falcon',
    roles: [{ role: 'investigator', study: 'hht' }],
    diary: { kind: 'investigator', siteIds: ['HHT-102'] },
  },
  {
    key: 'investigator301',
    email: 'investigator.301@countersign.demo',
    printedName: 'Dr. Amara Nwosu',
    password: 'Investigator301-Osprey',
    roles: [{ role: 'investigator', study: 'onc' }],
    diary: { kind: 'investigator', siteIds: ['ONC-301'] },
  },
  {
    key: 'analyst',
    email: 'analyst@countersign.demo',
    printedName: 'Jonas Becker',
    password: 'Analyst-Prism-2025',
    roles: both('analyst'),
    diary: { kind: 'analyst', siteIds: ['HHT-101', 'HHT-102', 'ONC-301'] },
  },
  patient(1, 'Eleanor Voss', 'Patient01-Willow-2025', 'HHT-101', 'HHT-101-001', 'hht'),
  patient(2, 'Mateo García', 'Patient02-Cedar-2025', 'HHT-101', 'HHT-101-002', 'hht'),
  patient(3, 'Aisha Rahman', 'Patient03-Maple-2025', 'HHT-102', 'HHT-102-001', 'hht'),
  patient(4, "Liam O'Connor", 'Patient04-Birch-2025', 'HHT-102', 'HHT-102-002', 'hht'),
  patient(5, 'Yuki Tanaka', 'Patient05-Aspen-2025', 'ONC-301', 'ONC-301-001', 'onc'),
  patient(6, 'Fatima Zahra Benali', 'Patient06-Alder-2025', 'ONC-301', 'ONC-301-002', 'onc'),
];

export function demoPerson(key: string): DemoPerson {
  const person = demoPeople.find((candidate) => candidate.key === key);
  if (!person) throw new Error(`no demo person ${key}`);
  return person;
}

/** What the embedded backend's sign-in screen shows for each demo person (matches contract DemoUser). */
export interface DemoSignInEntry {
  email: string;
  password: string;
  printedName: string;
  /** Application role names (cro.app_role), each once. */
  roles: string[];
  hasTotp: boolean;
}

/** A person's application roles, each once (grants repeat a role per study). */
function roleNames(person: DemoPerson): string[] {
  return [...new Set(person.roles.map((grant) => grant.role))];
}

export function demoSignInList(): DemoSignInEntry[] {
  return demoPeople.map((person) => ({
    email: person.email,
    password: person.password,
    printedName: person.printedName,
    roles: roleNames(person),
    hasTotp: Boolean(person.totpSecretBase32),
  }));
}

/** The block `npm start` prints once the embedded demo is ready, so a newcomer can sign in. */
export function formatDemoCredentials(): string {
  const width = Math.max(...demoPeople.map((person) => person.email.length));
  const lines = demoPeople.map((person) => {
    const roles = roleNames(person).join(', ');
    const totp = person.totpSecretBase32 ? `  TOTP secret ${person.totpSecretBase32}` : '';
    return `  ${person.email.padEnd(width)}  ${person.password.padEnd(26)} ${roles}${totp}`;
  });
  return [
    'Demo sign-in (embedded demo database on this machine only; these passwords are meant to be seen):',
    ...lines,
  ].join('\n');
}
