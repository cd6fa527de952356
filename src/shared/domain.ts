// Domain vocabulary shared by main and renderer. Values mirror the enums in supabase/migrations.

export const stagingStates = ['proposed', 'reviewing', 'signed', 'promoted', 'rejected'] as const;
export type StagingState = (typeof stagingStates)[number];

/** The live tables a staging proposal may land in (cro.staging_record.entity_kind). */
export const entityKinds = [
  'study',
  'study_kpi',
  'study_milestone',
  'study_risk',
  'study_resource',
  'live_essential_document',
] as const;
export type EntityKind = (typeof entityKinds)[number];

/** Application roles (cro.app_role). CRO roles are granted per study; diary roles per site. */
export const appRoles = [
  'sponsor',
  'monitor',
  'coordinator',
  'signer',
  'admin',
  'inspector',
  'agent',
  'patient',
  'investigator',
  'analyst',
] as const;
export type AppRole = (typeof appRoles)[number];

export const backendModes = ['embedded', 'postgres', 'supabase'] as const;
export type BackendMode = (typeof backendModes)[number];

/** Why a query is closed (or reopened): the server's fixed list (migration 0051). `other` needs a text. */
export const queryReasonCodes = [
  'answered',
  'data_corrected',
  'confirmed_as_entered',
  'raised_in_error',
  'other',
] as const;
export type QueryReasonCode = (typeof queryReasonCodes)[number];

/** The words a person reads for each reason code (screens and the inspection packet). */
export const queryReasonLabels: Record<QueryReasonCode, string> = {
  answered: 'Answered by the site',
  data_corrected: 'Data corrected',
  confirmed_as_entered: 'Value confirmed as entered',
  raised_in_error: 'Query raised in error',
  other: 'Other (say why)',
};
