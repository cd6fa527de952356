// The kinds of audit entry (the part of event_type before its first dot), as the server's
// migrations write them, with the words the filter shows.
export const auditEventKinds = [
  { kind: 'staging', label: 'Staging records' },
  { kind: 'signature', label: 'Signatures' },
  { kind: 'signing', label: 'Signing ceremonies' },
  { kind: 'reauth', label: 'Re-authentication' },
  { kind: 'totp', label: 'Authenticators (TOTP)' },
  { kind: 'security_alert', label: 'Security alerts (acknowledged, closed)' },
  { kind: 'account', label: 'Account unlocks' },
  { kind: 'diary', label: 'Diaries' },
  { kind: 'access', label: 'Access changes' },
  { kind: 'evidence', label: 'Validation evidence' },
  { kind: 'genesis', label: 'Genesis' },
] as const;
