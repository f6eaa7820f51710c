import { describe, expect, it } from 'vitest';
import { acrMeets, assuranceOf, legacyAssurance, passkeyMethod, stepUp } from '../../src/token/assurance.js';

const AT = Date.UTC(2026, 0, 1);

describe('assurance (amr, auth_time, acr)', () => {
  it('is one factor for a password or a mailbox, two with a code, and two for a passkey alone', () => {
    expect(assuranceOf(['pwd'], AT)).toEqual({ amr: ['pwd'], authTime: AT, acr: '1' });
    expect(assuranceOf(['email'], AT)).toEqual({ amr: ['email'], authTime: AT, acr: '1' });
    expect(assuranceOf(['pwd', 'otp'], AT)).toEqual({ amr: ['pwd', 'otp', 'mfa'], authTime: AT, acr: 'mfa' });
    expect(assuranceOf(['swk'], AT)).toEqual({ amr: ['swk', 'mfa'], authTime: AT, acr: 'mfa' });
    expect(assuranceOf(['pwd', 'hwk'], AT).amr).toEqual(['pwd', 'hwk', 'mfa']);
  });

  it('names a synced passkey swk and a device-bound one hwk', () => {
    expect(passkeyMethod({ backupEligible: true })).toBe('swk');
    expect(passkeyMethod({ backupEligible: false })).toBe('hwk');
  });

  it('steps up by adding the method once, at the new time', () => {
    expect(stepUp({ amr: ['pwd'] }, 'otp', AT + 1)).toEqual({
      amr: ['pwd', 'otp', 'mfa'],
      authTime: AT + 1,
      acr: 'mfa',
    });
    // A second step-up with the same factor only moves the time; mfa is never doubled.
    expect(stepUp({ amr: ['pwd', 'otp', 'mfa'] }, 'otp', AT + 2).amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(stepUp({ amr: ['email'] }, 'otp', AT).acr).toBe('mfa');
  });

  it('reads an old session as a password login at its creation, and orders the levels', () => {
    expect(legacyAssurance(AT)).toEqual({ amr: ['pwd'], authTime: AT, acr: '1' });
    expect(acrMeets('mfa', 'mfa')).toBe(true);
    expect(acrMeets('mfa', '1')).toBe(true);
    expect(acrMeets('1', 'mfa')).toBe(false);
    expect(acrMeets(undefined, '1')).toBe(false);
    expect(acrMeets('mfa', 'urn:other')).toBe(false);
  });
});
