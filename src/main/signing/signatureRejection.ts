// A rejection's reason and explanation as a signature row carries them (cro.signature_event,
// migration 0050), for every reader of cached or exported signatures: both or nothing.
import type { RejectionReason } from './signingBackend';

export function signatureRejection(signature: Record<string, unknown>): RejectionReason | null {
  const { rejection_reason: reason, rejection_explanation: explanation } = signature;
  return typeof reason === 'string' && typeof explanation === 'string' ? { reason, explanation } : null;
}
