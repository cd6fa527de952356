// What the demo studies contain: the studies themselves, their first live rows, the knowledge
// chunks the agent cites, and generators for agent proposals and diary entries. Shared by the
// seeder (seedDemo.ts) and the demo agent (demoAgent.ts). Pure: no database access.
//
// Some texts are deliberately awkward (very long, non-Latin scripts, right-to-left, bidi controls,
// HTML and script-looking strings): the workstation renders untrusted text and must do so safely.
import type { EntityKind } from '../../../shared/domain';
import { type DemoStudyKey, demoSponsors, demoStudyCodes } from './demoPeople';
import type { Rng } from './prng';

export type Row = Record<string, unknown>;

const dayMs = 86_400_000;

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * dayMs);
}

/** YYYY-MM-DD (UTC). */
export function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function studyKeyForCode(code: string): DemoStudyKey {
  return code === demoStudyCodes.onc ? 'onc' : 'hht';
}

// ── Awkward texts ───────────────────────────────────────────────────────────────────────────────

const longParagraph =
  'Mitigation plan, step by step: (1) the site pharmacist reconciles the IMP accountability log ' +
  'against the IRT shipment records every Monday and files the reconciliation in the ISF; (2) the ' +
  'CRA verifies the reconciliation at each monitoring visit and raises a protocol deviation for any ' +
  'unexplained discrepancy above one kit; (3) the clinical trial manager reviews the deviation log ' +
  'fortnightly with the sponsor and escalates trends to the quality review board; (4) where a ' +
  'temperature excursion is reported, the kits stay quarantined until the sponsor releases them in ' +
  'writing. ';

export const awkwardTexts = {
  /** About 9,000 characters. */
  veryLong: `${longParagraph.repeat(18)}End of plan.`,
  unicode:
    'Enrolment ✓ — Zürich, Kraków, São Paulo, Reykjavík · 東京 · 서울 · Ελληνικά · 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 · 🧪🩸📈 · e\u0301 vs é · ﬁ ligature',
  rtl: 'עיכוב באספקת התרופה לאתר — تأخر في توريد الدواء إلى الموقع (site 102) \u202Efdp.exe\u202C',
  html: '<script>alert("countersign")</script><img src=x onerror="alert(document.cookie)"> & </textarea>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: deliberately template-injection-looking text
  htmlAttribute: "\"><svg/onload=alert(1)> {{constructor.constructor('alert(2)')()}} ${7*7}",
  markdownLink:
    '[Open the protocol](javascript:alert(3)) **bold** `code` and a bell \u0007 control character',
} as const;

// ── Studies ─────────────────────────────────────────────────────────────────────────────────────

export interface DemoStudyContent {
  code: string;
  fields: Row;
}

export function demoStudyContent(key: DemoStudyKey, now: Date): DemoStudyContent {
  if (key === 'hht') {
    return {
      code: demoStudyCodes.hht,
      fields: {
        sponsor: demoSponsors.hht.name,
        phase: 'Phase II',
        therapeutic_area: 'Haematology / Vascular medicine',
        indication: 'Epistaxis in hereditary haemorrhagic telangiectasia (HHT)',
        status: 'Enrolling',
        health: 'yellow',
        executive_summary:
          'Randomised, double-blind, placebo-controlled Phase II study of oral AUR-417 in adults with HHT ' +
          'and moderate-to-severe epistaxis. Primary endpoint: change from baseline in monthly epistaxis ' +
          'duration (weeks 12–24), recorded in the patient eDiary. 41 of 60 patients are randomised; site 102 ' +
          'is six weeks behind plan after a delayed ethics amendment.',
        goals: [
          {
            id: 'G1',
            title: 'Randomise 60 patients',
            target_date: isoDate(addDays(now, 75)),
            status: 'at_risk',
          },
          {
            id: 'G2',
            title: 'eDiary compliance ≥ 90 %',
            target_date: isoDate(addDays(now, 200)),
            status: 'on_track',
          },
          { id: 'G3', title: 'Database lock', target_date: isoDate(addDays(now, 330)), status: 'on_track' },
        ],
        start_date: isoDate(addDays(now, -430)),
        planned_end_date: isoDate(addDays(now, 380)),
        current_forecast_end_date: isoDate(addDays(now, 422)),
        contracted_budget: 4850000,
        ebv_spent: 2310000,
        eac_budget: 5020000,
        currency: 'EUR',
      },
    };
  }
  return {
    code: demoStudyCodes.onc,
    fields: {
      sponsor: demoSponsors.onc.name,
      phase: 'Phase III',
      therapeutic_area: 'Oncology',
      indication: 'EGFR-mutant metastatic non-small cell lung cancer, second line',
      status: 'Enrolling',
      health: 'green',
      executive_summary:
        'Global, open-label, randomised Phase III study of NW-2207 plus standard chemotherapy versus ' +
        'chemotherapy alone after progression on a third-generation EGFR TKI. Primary endpoint: ' +
        'progression-free survival by blinded independent central review. 412 of 620 patients randomised ' +
        'across 58 active sites; enrolment tracks the plan.',
      goals: [
        {
          id: 'G1',
          title: 'Randomise 620 patients',
          target_date: isoDate(addDays(now, 160)),
          status: 'on_track',
        },
        {
          id: 'G2',
          title: 'Interim PFS analysis',
          target_date: isoDate(addDays(now, 250)),
          status: 'on_track',
        },
        { id: 'G3', title: 'Top-line results', target_date: isoDate(addDays(now, 520)), status: 'on_track' },
      ],
      start_date: isoDate(addDays(now, -610)),
      planned_end_date: isoDate(addDays(now, 540)),
      current_forecast_end_date: isoDate(addDays(now, 548)),
      contracted_budget: 38500000,
      ebv_spent: 17900000,
      eac_budget: 39200000,
      currency: 'USD',
    },
  };
}

// ── First live rows (proposable fields only; the seeder adds ids and system columns) ────────────

export interface DemoLiveRows {
  study_kpi: Row[];
  study_milestone: Row[];
  study_risk: Row[];
  study_resource: Row[];
  live_essential_document: Row[];
}

export function demoLiveRows(key: DemoStudyKey, now: Date): DemoLiveRows {
  const code = demoStudyCodes[key];
  const d = (days: number) => isoDate(addDays(now, days));
  const doc = (
    type: string,
    title: string,
    artifact: string,
    slug: string,
    version: string,
    effective: number,
  ) => ({
    document_type: type,
    document_title: title,
    storage_uri: `tmf://${code}/${artifact}/${slug}-v${version}.pdf`,
    metadata: { version, tmf_artifact: artifact, effective_date: d(effective), language: 'en' },
  });
  if (key === 'hht') {
    return {
      study_kpi: [
        {
          label: 'Patients randomised',
          value: '41 / 60',
          delta: '+3',
          delta_direction: 'up',
          threshold: '≥ 45 by month end',
          position: 1,
        },
        {
          label: 'Screen-failure rate',
          value: '22 %',
          delta: '-2 pts',
          delta_direction: 'down',
          threshold: '≤ 25 %',
          position: 2,
        },
        {
          label: 'Open data queries',
          value: '37',
          delta: '+5',
          delta_direction: 'up',
          threshold: '≤ 30',
          position: 3,
        },
        {
          label: 'eDiary compliance',
          value: '91 %',
          delta: '+1 pt',
          delta_direction: 'up',
          threshold: '≥ 90 %',
          position: 4,
        },
        {
          label: 'Major protocol deviations',
          value: '3',
          delta: '0',
          delta_direction: 'flat',
          threshold: '≤ 5',
          position: 5,
        },
      ],
      study_milestone: [
        {
          name: 'First patient in (FPI)',
          planned_date: d(-400),
          actual_or_forecast_date: d(-392),
          status: 'complete',
          position: 1,
        },
        {
          name: '50 % randomised',
          planned_date: d(-150),
          actual_or_forecast_date: d(-131),
          status: 'complete',
          position: 2,
        },
        {
          name: 'Last patient in (LPI)',
          planned_date: d(60),
          actual_or_forecast_date: d(102),
          status: 'at_risk',
          position: 3,
        },
        {
          name: 'Last patient last visit (LPLV)',
          planned_date: d(230),
          actual_or_forecast_date: d(272),
          status: 'at_risk',
          position: 4,
        },
        {
          name: 'Database lock (DBL)',
          planned_date: d(290),
          actual_or_forecast_date: d(330),
          status: 'on_track',
          position: 5,
        },
        {
          name: 'Clinical study report (CSR)',
          planned_date: d(380),
          actual_or_forecast_date: d(422),
          status: 'not_started',
          position: 6,
        },
      ],
      study_risk: [
        {
          title: 'Slow enrolment at site 102',
          owner: 'Priya Raman',
          severity: 'high',
          mitigation:
            'Add a referral partnership with the regional HHT patient association; weekly pre-screening calls.',
          status: 'open',
        },
        {
          title: 'eDiary non-compliance in the first 2 weeks',
          owner: 'Lucas Moreau',
          severity: 'medium',
          mitigation: 'Automated reminder at 20:00 local time; coordinator call after 3 missed days.',
          status: 'mitigating',
        },
        {
          title: 'IMP temperature excursions in summer shipments',
          owner: 'Dr. Miriam Okafor',
          severity: 'medium',
          mitigation: 'Switch to 96-hour validated shippers from June to September.',
          status: 'open',
        },
        {
          title: 'Anaemia requiring transfusion confounds the endpoint',
          owner: 'Dr. Sofia Marchetti',
          severity: 'low',
          mitigation: 'Record transfusions as concomitant procedures; sensitivity analysis in the SAP.',
          status: 'closed',
        },
      ],
      study_resource: [
        { role: 'Clinical Research Associate', headcount: 3, fte: 2.5, rate_per_month: 11800 },
        { role: 'Clinical Trial Manager', headcount: 1, fte: 1, rate_per_month: 15200 },
        { role: 'Data Manager', headcount: 1, fte: 0.6, rate_per_month: 10400 },
        { role: 'Medical Monitor', headcount: 1, fte: 0.3, rate_per_month: 21500 },
        { role: 'Biostatistician', headcount: 1, fte: 0.4, rate_per_month: 14900 },
      ],
      live_essential_document: [
        doc('Protocol', 'Clinical Study Protocol AUR-HHT-201', '01.01.01', 'protocol', '3.0', -90),
        doc(
          "Investigator's Brochure",
          "AUR-417 Investigator's Brochure, edition 7",
          '01.01.02',
          'investigators-brochure',
          '7.0',
          -200,
        ),
        doc(
          'Informed Consent Form',
          'Patient information and informed consent (EN/DE)',
          '02.01.01',
          'icf',
          '4.1',
          -85,
        ),
        doc(
          'Ethics Committee Approval',
          'Ethics committee approval of amendment 3',
          '03.01.02',
          'ec-approval-am3',
          '1.0',
          -70,
        ),
        doc('Monitoring Plan', 'Risk-based monitoring plan', '05.01.01', 'monitoring-plan', '2.2', -120),
      ],
    };
  }
  return {
    study_kpi: [
      {
        label: 'Patients randomised',
        value: '412 / 620',
        delta: '+19',
        delta_direction: 'up',
        threshold: '≥ 400 by Q3',
        position: 1,
      },
      {
        label: 'Sites activated',
        value: '58 / 64',
        delta: '+2',
        delta_direction: 'up',
        threshold: '≥ 60',
        position: 2,
      },
      {
        label: 'Median query age (days)',
        value: '6.5',
        delta: '-1.2',
        delta_direction: 'down',
        threshold: '≤ 10',
        position: 3,
      },
      {
        label: 'SAEs reported within 24 h',
        value: '98 %',
        delta: '0',
        delta_direction: 'flat',
        threshold: '≥ 95 %',
        position: 4,
      },
      {
        label: 'Discontinuation rate',
        value: '7.4 %',
        delta: '+0.3 pts',
        delta_direction: 'up',
        threshold: '≤ 10 %',
        position: 5,
      },
    ],
    study_milestone: [
      {
        name: 'First patient in (FPI)',
        planned_date: d(-590),
        actual_or_forecast_date: d(-583),
        status: 'complete',
        position: 1,
      },
      {
        name: 'All countries approved',
        planned_date: d(-420),
        actual_or_forecast_date: d(-401),
        status: 'complete',
        position: 2,
      },
      {
        name: 'Last patient in (LPI)',
        planned_date: d(160),
        actual_or_forecast_date: d(166),
        status: 'on_track',
        position: 3,
      },
      {
        name: 'Interim PFS analysis',
        planned_date: d(250),
        actual_or_forecast_date: d(250),
        status: 'on_track',
        position: 4,
      },
      {
        name: 'Database lock (DBL)',
        planned_date: d(470),
        actual_or_forecast_date: d(478),
        status: 'on_track',
        position: 5,
      },
      {
        name: 'Clinical study report (CSR)',
        planned_date: d(540),
        actual_or_forecast_date: d(548),
        status: 'not_started',
        position: 6,
      },
    ],
    study_risk: [
      {
        title: 'Comparator (docetaxel) supply in LATAM',
        owner: 'Lucas Moreau',
        severity: 'high',
        mitigation: 'Local sourcing approved for Brazil and Mexico; 12 weeks of buffer stock.',
        status: 'mitigating',
      },
      {
        title: 'BICR backlog delays PFS events',
        owner: 'Priya Raman',
        severity: 'medium',
        mitigation: 'Second reader pool contracted; scans read within 14 days tracked weekly.',
        status: 'open',
      },
      {
        title: 'Interstitial lung disease signal',
        owner: 'Dr. Henrik Lindqvist',
        severity: 'critical',
        mitigation: 'Enhanced ILD monitoring per amendment 5; DSMB ad-hoc review scheduled.',
        status: 'open',
      },
      {
        title: 'Site staff turnover in Eastern Europe',
        owner: 'Priya Raman',
        severity: 'low',
        mitigation: 'Retraining packages and delegation log checks at each visit.',
        status: 'closed',
      },
    ],
    study_resource: [
      { role: 'Clinical Research Associate', headcount: 14, fte: 12.5, rate_per_month: 12900 },
      { role: 'Clinical Trial Manager', headcount: 3, fte: 3, rate_per_month: 16800 },
      { role: 'Data Manager', headcount: 3, fte: 2.2, rate_per_month: 11200 },
      { role: 'Pharmacovigilance Specialist', headcount: 2, fte: 1.5, rate_per_month: 13600 },
      { role: 'Medical Monitor', headcount: 2, fte: 1, rate_per_month: 23800 },
    ],
    live_essential_document: [
      doc('Protocol', 'Clinical Study Protocol NWO-ONC-301, amendment 5', '01.01.01', 'protocol', '6.0', -60),
      doc(
        "Investigator's Brochure",
        "NW-2207 Investigator's Brochure, edition 4",
        '01.01.02',
        'investigators-brochure',
        '4.0',
        -300,
      ),
      doc('Informed Consent Form', 'Master informed consent form', '02.01.01', 'icf', '5.0', -58),
      doc(
        'DSMB Charter',
        'Data and Safety Monitoring Board charter',
        '01.05.01',
        'dsmb-charter',
        '2.0',
        -500,
      ),
      doc(
        'Statistical Analysis Plan',
        'Statistical analysis plan (interim and final)',
        '10.01.01',
        'sap',
        '1.2',
        -45,
      ),
    ],
  };
}

// ── Knowledge chunks the agent cites (cro.vector_document) ─────────────────────────────────────

export interface KnowledgeChunk {
  source_kind: string;
  source_uri: string;
  chunk_index: number;
  content: string;
}

export function knowledgeChunks(key: DemoStudyKey): KnowledgeChunk[] {
  const code = demoStudyCodes[key];
  const texts =
    key === 'hht'
      ? [
          [
            'protocol',
            'protocol-v3.0.pdf',
            'Section 9.2: Epistaxis episodes are recorded daily in the eDiary, with duration in minutes, intensity and side. The primary endpoint is the change in mean monthly epistaxis duration from baseline to weeks 12–24.',
          ],
          [
            'protocol',
            'protocol-v3.0.pdf',
            'Section 7.1: Sixty patients will be randomised 1:1 at up to three sites. Enrolment is expected to complete within 14 months of the first patient in.',
          ],
          [
            'monitoring_report',
            'mvr/site-102/visit-07.pdf',
            'Site 102 screened 4 patients this month; 1 screen failure (haemoglobin below 9 g/dL). Pre-screening log shows 11 candidates pending the amendment 3 consent form.',
          ],
          [
            'edc_export',
            'edc/enrolment-export-latest.csv',
            'Randomised: 41. Screened: 53. Screen failures: 12. Open queries: 37, of which 9 older than 30 days.',
          ],
          [
            'meeting_minutes',
            'minutes/sponsor-cro-weekly.docx',
            'The sponsor asked for a revised LPI forecast and for the temperature-excursion risk to be re-scored before summer shipments.',
          ],
          [
            'budget',
            'finance/budget-tracker.xlsx',
            'Earned value to date EUR 2.31m against a contracted budget of EUR 4.85m; amendment 3 adds EUR 170k of site fees.',
          ],
        ]
      : [
          [
            'protocol',
            'protocol-amendment-5.pdf',
            'Section 8.4: Tumour assessments by CT every 6 weeks until week 48, then every 9 weeks; progression is confirmed by blinded independent central review.',
          ],
          [
            'protocol',
            'protocol-amendment-5.pdf',
            'Section 10.3: Patients with suspected interstitial lung disease interrupt study drug and undergo high-resolution CT within 72 hours.',
          ],
          [
            'monitoring_report',
            'mvr/site-301/visit-12.pdf',
            'Site 301 randomised 3 patients this month; 2 CT scans were uploaded to the imaging vendor later than 14 days.',
          ],
          [
            'edc_export',
            'edc/enrolment-export-latest.csv',
            'Randomised: 412. Active sites: 58. Median query age: 6.5 days. Discontinuations: 30.',
          ],
          [
            'meeting_minutes',
            'minutes/dsmb-closed-session.pdf',
            'The DSMB recommended continuing the study unchanged and asked for an ad-hoc ILD review after 20 further events.',
          ],
          [
            'budget',
            'finance/budget-tracker.xlsx',
            'Earned value to date USD 17.9m; estimate at completion USD 39.2m after the BICR change order.',
          ],
        ];
  return texts.map(([kind, path, content], index) => ({
    source_kind: kind as string,
    source_uri: `kb://${code}/${path}`,
    chunk_index: index,
    content: content as string,
  }));
}

export interface Citation {
  source_uri: string;
  chunk_index: number;
  quote: string;
  retrieved_at: string;
}

/** One to three citations of the study's knowledge chunks, each quoting its first sentence. */
export function citationsFor(
  key: DemoStudyKey,
  rng: Rng,
  retrievedAt: Date,
  chunks = knowledgeChunks(key),
): Citation[] {
  const chosen = rng.shuffle(chunks).slice(0, rng.int(1, Math.min(3, chunks.length)));
  return chosen.map((chunk) => ({
    source_uri: chunk.source_uri,
    chunk_index: chunk.chunk_index,
    quote: (chunk.content.split(/(?<=\.)\s/)[0] ?? chunk.content).slice(0, 300),
    retrieved_at: retrievedAt.toISOString(),
  }));
}

// ── Proposals ───────────────────────────────────────────────────────────────────────────────────

const riskTitles: Record<DemoStudyKey, string[]> = {
  hht: [
    'Competing HHT trial at site 101',
    'Nasal spray rescue medication not recorded consistently',
    'Courier strike delays IMP resupply',
    'Haemoglobin assay change at central lab',
    'Paper diary back-up used without transcription',
  ],
  onc: [
    'Imaging vendor capacity in APAC',
    'Unblinding risk through dose-modification patterns',
    'EGFR testing turnaround at local labs',
    'Contrast media shortage',
    'Delayed SAE reconciliation with the safety database',
  ],
};
const mitigations = [
  'Weekly review by the study team; escalate to the sponsor if the trend persists for two weeks.',
  'Add a monitoring visit focused on this topic and retrain site staff.',
  'Agree a contingency vendor and document the switch criteria in the study plan.',
  'Update the monitoring plan and track the KRI on the study dashboard.',
  'Raise with the steering committee; document the decision in the TMF.',
];
const owners = [
  'Priya Raman',
  'Lucas Moreau',
  'Dr. Miriam Okafor',
  'Dr. Henrik Lindqvist',
  'Ingrid Halvorsen',
];
const severities = ['low', 'medium', 'high', 'critical'];
const riskStatuses = ['open', 'mitigating', 'closed'];
const kpiLabels: Record<DemoStudyKey, string[]> = {
  hht: [
    'Median monthly epistaxis duration (min)',
    'eDiary entries per patient-week',
    'Patients with Hb < 10 g/dL',
    'Iron infusions this month',
    'Retention at week 24',
  ],
  onc: [
    'CT scans read within 14 days',
    'Grade ≥ 3 AEs per 100 patient-months',
    'IMP weeks on hand (lowest depot)',
    'Median days screening → randomisation',
    'EGFR results within 10 days',
  ],
};
const milestoneNames: Record<DemoStudyKey, string[]> = {
  hht: [
    'Amendment 4 approval',
    'Site 103 activation',
    'DSMB safety review #3',
    'Database soft-lock',
    'Week-24 visit of last patient',
  ],
  onc: [
    'DSMB ad-hoc ILD review',
    'Japan site activation',
    'BICR reader re-training',
    'Interim database cut',
    'SAP amendment sign-off',
  ],
};
const milestoneStatuses = ['on_track', 'at_risk', 'complete', 'not_started', 'delayed'];
const resourceRoles = [
  'Clinical Research Associate',
  'Clinical Trial Manager',
  'Data Manager',
  'Medical Monitor',
  'Biostatistician',
  'Pharmacovigilance Specialist',
  'Site Contract Specialist',
  'Medical Writer',
];
const documentKinds: [string, string, string][] = [
  ['Monitoring Visit Report', '05.04.01', 'mvr'],
  ['Protocol Deviation Log', '05.04.06', 'deviation-log'],
  ['Pharmacy Manual', '06.01.01', 'pharmacy-manual'],
  ['Site Signature and Delegation Log', '05.02.07', 'delegation-log'],
  ['Ethics Committee Approval', '03.01.02', 'ec-approval'],
  ['Safety Management Plan', '07.01.01', 'safety-plan'],
];
const studyStatuses = ['Enrolling', 'Enrolling (site 102 paused)', 'Enrolment complete', 'Follow-up'];

export const proposalRationales = [
  'The cited monitoring visit report and the EDC export disagree with the live value; this proposal aligns it with the source.',
  'The sponsor asked for this update in the weekly call (minutes cited).',
  'Derived from the latest enrolment export; the figure moved since the last promoted value.',
  'A new item found in the TMF index that has no live row yet.',
  'Re-scored after the monitoring findings cited below.',
];

export interface ProposalContext {
  key: DemoStudyKey;
  now: Date;
}

/** A full new row for a create proposal (entity_id null): every NOT NULL proposable column is set. */
export function proposeCreate(
  kind: Exclude<EntityKind, 'study'>,
  { key, now }: ProposalContext,
  rng: Rng,
): Row {
  const d = (days: number) => isoDate(addDays(now, days));
  switch (kind) {
    case 'study_kpi': {
      const direction = rng.pick(['up', 'down', 'flat']);
      return {
        label: rng.pick(kpiLabels[key]),
        value: String(rng.int(3, 95)),
        delta: direction === 'flat' ? '0' : `${direction === 'up' ? '+' : '-'}${rng.int(1, 9)}`,
        delta_direction: direction,
        threshold: `≤ ${rng.int(10, 99)}`,
        position: rng.int(6, 12),
      };
    }
    case 'study_milestone': {
      const planned = rng.int(10, 300);
      return {
        name: rng.pick(milestoneNames[key]),
        planned_date: d(planned),
        actual_or_forecast_date: d(planned + rng.int(-5, 30)),
        status: rng.pick(['on_track', 'at_risk', 'not_started']),
        position: rng.int(7, 15),
      };
    }
    case 'study_risk':
      return {
        title: rng.pick(riskTitles[key]),
        owner: rng.pick(owners),
        severity: rng.pick(severities),
        mitigation: rng.pick(mitigations),
        status: 'open',
      };
    case 'study_resource':
      return {
        role: rng.pick(resourceRoles),
        headcount: rng.int(1, 6),
        fte: rng.int(2, 40) / 10,
        rate_per_month: rng.int(90, 240) * 100,
      };
    case 'live_essential_document': {
      const [type, artifact, slug] = rng.pick(documentKinds);
      const version = `${rng.int(1, 4)}.${rng.int(0, 9)}`;
      return {
        document_type: type,
        document_title: `${type} — ${demoStudyCodes[key]} (${d(-rng.int(0, 25))})`,
        storage_uri: `tmf://${demoStudyCodes[key]}/${artifact}/${slug}-${rng.hex(6)}-v${version}.pdf`,
        metadata: { version, tmf_artifact: artifact, effective_date: d(-rng.int(0, 25)), language: 'en' },
      };
    }
  }
}

/** A partial row for an update of an existing live row (or of the study itself). */
export function proposeUpdate(kind: EntityKind, { key, now }: ProposalContext, rng: Rng): Row {
  const d = (days: number) => isoDate(addDays(now, days));
  switch (kind) {
    case 'study': {
      const base = demoStudyContent(key, now).fields;
      const variant = rng.int(0, 5);
      if (variant === 0) return { health: rng.pick(['green', 'yellow', 'red']) };
      if (variant === 1)
        return { current_forecast_end_date: d((key === 'hht' ? 380 : 540) + rng.int(0, 90)) };
      if (variant === 2) {
        const spent = Number(base.ebv_spent) + rng.int(1, 60) * 5000;
        return { ebv_spent: spent, eac_budget: Number(base.eac_budget) + rng.int(-10, 40) * 5000 };
      }
      if (variant === 3) return { status: rng.pick(studyStatuses) };
      if (variant === 4) {
        return {
          executive_summary: `${String(base.executive_summary)} Update: ${rng.pick(proposalRationales)}`,
          health: rng.pick(['green', 'yellow']),
        };
      }
      return {
        goals: [
          ...(base.goals as Row[]).slice(0, 2),
          {
            id: 'G4',
            title: 'Close all queries older than 30 days',
            target_date: d(rng.int(20, 60)),
            status: 'on_track',
          },
        ],
      };
    }
    case 'study_kpi': {
      const direction = rng.pick(['up', 'down', 'flat']);
      return {
        value: String(rng.int(3, 95)),
        delta: direction === 'flat' ? '0' : `${direction === 'up' ? '+' : '-'}${rng.int(1, 9)}`,
        delta_direction: direction,
      };
    }
    case 'study_milestone':
      return { actual_or_forecast_date: d(rng.int(-20, 400)), status: rng.pick(milestoneStatuses) };
    case 'study_risk':
      return rng.chance(0.5)
        ? { severity: rng.pick(severities), status: rng.pick(riskStatuses) }
        : { mitigation: rng.pick(mitigations), status: 'mitigating' };
    case 'study_resource':
      return rng.chance(0.5)
        ? { headcount: rng.int(1, 16), fte: rng.int(3, 150) / 10 }
        : { rate_per_month: rng.int(90, 240) * 100 };
    case 'live_essential_document': {
      const version = `${rng.int(2, 8)}.${rng.int(0, 9)}`;
      return {
        storage_uri: `tmf://${demoStudyCodes[key]}/updates/${rng.hex(8)}-v${version}.pdf`,
        metadata: { version, effective_date: d(-rng.int(0, 20)), language: 'en', superseded: true },
      };
    }
  }
}

/** The same value as PostgreSQL's jsonb equality sees it: numbers by value, objects whatever their key order. */
export function sameFieldValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, index) => sameFieldValue(item, b[index]))
    );
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const left = a as Row;
    const right = b as Row;
    const keys = Object.keys(left);
    return (
      keys.length === Object.keys(right).length &&
      keys.every((key) => Object.hasOwn(right, key) && sameFieldValue(left[key], right[key]))
    );
  }
  return a === b;
}

/**
 * The fields of an update proposal that change each of `liveRows` (an agent proposes no value the
 * record already has); null when no field does.
 */
export function fieldsThatChange(proposed: Row, liveRows: readonly Row[]): Row | null {
  const changing = Object.entries(proposed).filter(([field, value]) =>
    liveRows.every((live) => !sameFieldValue(live[field], value)),
  );
  return changing.length > 0 ? Object.fromEntries(changing) : null;
}

/** An update (see proposeUpdate) whose every field changes each of `liveRows`: never a no-op to sign. */
export function proposeChange(
  kind: EntityKind,
  context: ProposalContext,
  rng: Rng,
  liveRows: readonly Row[],
): Row {
  for (let attempt = 0; attempt < 100; attempt++) {
    const changing = fieldsThatChange(proposeUpdate(kind, context, rng), liveRows);
    if (changing) return changing;
  }
  throw new Error(`demo: found no ${kind} update that changes its live row`);
}

// ── Protocol builds ─────────────────────────────────────────────────────────────────────────────
// The shape of cro.study_database_build.configuration_snapshot (migration 0054).

export interface BuildFieldConfiguration {
  code: string;
  label?: string;
  type: string;
  required?: boolean;
  values?: string[];
  min?: number;
  max?: number;
  max_length?: number;
}

export interface BuildFormConfiguration {
  code: string;
  kind: 'diary' | 'entity';
  title?: string;
  fields: BuildFieldConfiguration[];
}

export interface BuildConfiguration {
  forms: BuildFormConfiguration[];
}

/** What stopped a nosebleed: the question protocol amendment 3 adds to the HHT diary. */
export const rescueTreatments = ['none', 'pressure', 'ice', 'packing', 'cautery'] as const;

export function initialBuildDescription(key: DemoStudyKey): string {
  return key === 'hht'
    ? `Initial database build of ${demoStudyCodes.hht} for first patient in: the epistaxis diary and the study-management forms of protocol version 1.0.`
    : `Initial database build of ${demoStudyCodes.onc} for first patient in: the symptom diary and the study-management forms of protocol version 1.0.`;
}

export const demoAmendment = {
  buildNumber: 'B2',
  buildVersion: '2.0',
  amendmentReference: 'Protocol amendment 3',
  description:
    'Protocol amendment 3 (approved by the ethics committees): the diary asks which rescue treatment stopped a ' +
    'nosebleed (new optional field rescue_treatment), and an episode lasts 1 to 240 minutes (was 0 to 1440) ' +
    'after the data review found implausible durations. Study-management forms unchanged.',
} as const;

/**
 * Amendment 3's configuration from the INITIAL one: the diary form gains rescue_treatment and a
 * tighter duration range; the entity forms are unchanged. 'first draft' is what the builder first
 * ran: the new choice field without its list of values, which the build refuses.
 */
export function amendedConfiguration(
  initial: BuildConfiguration,
  draft: 'first draft' | 'corrected',
): BuildConfiguration {
  const rescue: BuildFieldConfiguration = {
    code: 'rescue_treatment',
    label: 'Rescue treatment',
    type: 'choice',
    required: false,
    ...(draft === 'corrected' ? { values: [...rescueTreatments] } : {}),
  };
  return {
    forms: initial.forms.map((form) => {
      if (form.kind !== 'diary') return form;
      const fields = form.fields.flatMap((field) => {
        if (field.code === 'duration_minutes') return [{ ...field, min: 1, max: 240 }];
        if (field.code === 'side') return [field, rescue];
        return [field];
      });
      if (!fields.includes(rescue)) fields.push(rescue);
      return { ...form, fields };
    }),
  };
}

// ── Diary ───────────────────────────────────────────────────────────────────────────────────────

/** The notes the demo patients write (free text: never in the analyst's data; test/e2e/analystExport.test.ts). */
export const diaryNotes = [
  'Started after exercise',
  'Woke up with it at night',
  'Used the saline spray, stopped after a while',
  'Happened during a flight',
  'Felt dizzy afterwards',
  'Dry air in the office',
  '',
];
export const diaryAwkwardNotes = [
  'Nosebleed 🩸 at the café in Zürich — used the spray ✓',
  'דימום מהאף אחרי ריצה · نزيف من الأنف بعد التمرين',
  '<img src=x onerror=alert("diary")> copied from a website',
];

export interface DiaryEntryOptions {
  awkward?: boolean;
  /** Captured under protocol amendment 3 (build B2 of the HHT study): a nosebleed may name its rescue treatment. */
  underAmendment?: boolean;
}

export function diaryEntry(
  siteStudy: DemoStudyKey,
  date: Date,
  rng: Rng,
  options: DiaryEntryOptions = {},
): Row {
  const eventType = siteStudy === 'hht' ? 'epistaxis' : rng.pick(['epistaxis', 'nausea', 'fatigue']);
  const entry: Row = {
    event_type: eventType,
    date: isoDate(date),
    time: `${String(rng.int(6, 23)).padStart(2, '0')}:${String(rng.int(0, 11) * 5).padStart(2, '0')}`,
    duration_minutes: rng.int(2, 45),
    intensity: rng.pick(['mild', 'moderate', 'severe']),
    notes: options.awkward ? rng.pick(diaryAwkwardNotes) : rng.pick(diaryNotes),
  };
  if (eventType === 'epistaxis') entry.side = rng.pick(['left', 'right', 'both']);
  if (options.underAmendment && eventType === 'epistaxis' && rng.chance(0.75)) {
    entry.rescue_treatment = rng.pick(rescueTreatments);
  }
  return entry;
}

export const diaryChangeReasons = [
  'Corrected the duration after checking my timer',
  'Selected the wrong side',
  'Added the notes I forgot',
  'Intensity was higher than I first entered',
];

/** Why a patient went back to an entry made before the amendment once the diary asked the new question. */
export const rescueTreatmentChangeReason = 'Added the rescue treatment the updated diary now asks for';

export const annotationNotes = [
  'Reviewed at the week-12 visit; consistent with the nurse assessment.',
  'Patient confirmed by phone that the spray was used as instructed.',
  'Transcribed from the paper back-up diary brought to the visit.',
  `Long note for the record: ${longParagraph.repeat(4)}`,
  awkwardTexts.rtl,
];
export const annotationQueries = [
  'Duration of 45 minutes is unusually long — please confirm the start and end time.',
  'Side is missing for this episode; was it left, right or both?',
  'Two entries at the same time on this day: is one a duplicate?',
  `Please confirm the notes, they contain markup: ${awkwardTexts.html}`,
];
/** Why the demo's closed queries were closed (migration 0051's codes), some with the investigator's words. */
export const demoCloseReasons: readonly { code: string; text: string | null }[] = [
  { code: 'answered', text: null },
  { code: 'answered', text: 'Patient answered at the clinic visit.' },
  { code: 'confirmed_as_entered', text: 'Confirmed with the patient by phone.' },
  { code: 'data_corrected', text: 'The patient corrected the entry the next day.' },
  { code: 'raised_in_error', text: null },
];

// ── Sponsor requests ────────────────────────────────────────────────────────────────────────────

export interface DemoSponsorRequest {
  study: DemoStudyKey;
  subject: string;
  body: string;
  priority: 'low' | 'normal' | 'high' | 'urgent';
  status: 'open' | 'in_progress' | 'answered' | 'closed';
  /** Days before now that it was filed. */
  filedDaysAgo: number;
}

export const demoSponsorRequests: readonly DemoSponsorRequest[] = [
  {
    study: 'hht',
    subject: 'Revised LPI forecast for site 102',
    body: 'Please re-forecast last patient in, taking the amendment 3 consent delay into account.',
    priority: 'high',
    status: 'in_progress',
    filedDaysAgo: 29,
  },
  {
    study: 'hht',
    subject: 'Re-score the IMP temperature-excursion risk',
    body: 'Summer shipments start next month; we need the risk register to reflect the new shippers.',
    priority: 'normal',
    status: 'answered',
    filedDaysAgo: 27,
  },
  {
    study: 'hht',
    subject: 'Budget impact of amendment 3',
    body: 'Finance asks for the earned value and EAC after the additional site fees.',
    priority: 'normal',
    status: 'open',
    filedDaysAgo: 24,
  },
  {
    study: 'hht',
    subject: 'Add eDiary compliance to the KPI strip',
    body: `Board deck needs compliance by site. Note from the portal: ${awkwardTexts.html}`,
    priority: 'low',
    status: 'answered',
    filedDaysAgo: 21,
  },
  {
    study: 'hht',
    subject: 'Current monitoring plan version',
    body: 'Please confirm which monitoring plan version is effective and file the latest in the TMF.',
    priority: 'normal',
    status: 'closed',
    filedDaysAgo: 18,
  },
  {
    study: 'hht',
    subject: 'بيانات التسجيل حسب الموقع — Enrolment by site',
    body: awkwardTexts.rtl,
    priority: 'low',
    status: 'open',
    filedDaysAgo: 9,
  },
  {
    study: 'onc',
    subject: 'ILD monitoring: DSMB ad-hoc review date',
    body: 'Please add the ad-hoc ILD review as a milestone once the DSMB confirms the date.',
    priority: 'urgent',
    status: 'in_progress',
    filedDaysAgo: 28,
  },
  {
    study: 'onc',
    subject: 'Comparator supply in LATAM',
    body: 'Update the risk with the local sourcing decision for Brazil and Mexico.',
    priority: 'high',
    status: 'answered',
    filedDaysAgo: 23,
  },
  {
    study: 'onc',
    subject: 'BICR change order',
    body: 'Reflect the BICR change order in the EAC and the resource plan (second reader pool).',
    priority: 'normal',
    status: 'open',
    filedDaysAgo: 15,
  },
  {
    study: 'onc',
    subject: 'CT upload timeliness KPI',
    body: 'We would like a KPI for CT scans read within 14 days.',
    priority: 'normal',
    status: 'open',
    filedDaysAgo: 6,
  },
];
