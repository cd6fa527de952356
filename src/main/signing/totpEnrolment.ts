// Setting up a signer's authenticator: the workstation generates the secret (otplib, 160 bits),
// shows it as an otpauth:// URI and a QR code, stores it on the server unconfirmed, and the first
// correct code (verified by the server) confirms it. The QR code crosses to the renderer as a
// matrix of modules, drawn there as SVG shapes: no markup or image from the main process.
import { generateSecret, generateURI } from 'otplib';
import QRCode from 'qrcode';
import type { SigningBackend } from './signingBackend';

export interface TotpEnrolmentOffer {
  secretBase32: string;
  otpauthUri: string;
  qr: { size: number; modules: string };
}

export function totpEnrolmentOffer(
  label: string,
  secretBase32: string = generateSecret(),
): TotpEnrolmentOffer {
  const otpauthUri = generateURI({ issuer: 'Countersign', label, secret: secretBase32 });
  const qr = QRCode.create(otpauthUri, { errorCorrectionLevel: 'M' });
  const size = qr.modules.size;
  let modules = '';
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) modules += qr.modules.get(row, column) ? '1' : '0';
  }
  return { secretBase32, otpauthUri, qr: { size, modules } };
}

export async function beginTotpEnrolment(
  backend: SigningBackend,
  label: string,
): Promise<TotpEnrolmentOffer> {
  const offer = totpEnrolmentOffer(label);
  await backend.beginTotpEnrolment(offer.secretBase32);
  return offer;
}

export function enrolmentFailureMessage(reason: string): string {
  switch (reason) {
    case 'wrong':
      return 'That code does not match. Check the time on your device and enter the current code.';
    case 'reused':
      return 'That code was already used. Wait for the next one.';
    case 'malformed':
      return 'The code is 6 digits.';
    case 'already_confirmed':
      return 'Your authenticator is already set up.';
    case 'no_factor':
      return 'Start the set-up again: no authenticator is waiting for confirmation.';
    default:
      return `The code was not accepted (${reason}).`;
  }
}
