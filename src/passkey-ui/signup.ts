/**
 * The script of `/signup`: "Sign up with a passkey" (the button is `hidden` until this
 * runs). It takes the address typed in the form's email field, asks `/v1/passkeys/signup/options`
 * for creation options, lets the browser make a passkey, and sends it to `/v1/passkeys/signup`
 * in cookie mode: a new account is signed in and the browser goes to `/account`. Under
 * `LATCHKEY_EMAIL_VERIFICATION=required` the answer is 202 and the page says to check the mail
 * (it cannot tell whether the address already had an account, and neither can anyone else).
 */

import { call, cancelled, creationOptions, registrationJSON } from './webauthn.js';

const button = document.getElementById('passkey-signup') as HTMLButtonElement | null;
const status = document.getElementById('passkey-signup-status');
const email = document.getElementById('email') as HTMLInputElement | null;

async function signUp(): Promise<void> {
  if (email === null || !email.reportValidity()) return;
  const options = await call('/v1/passkeys/signup/options', { email: email.value });
  const credential = (await navigator.credentials.create({
    publicKey: creationOptions(options),
  })) as PublicKeyCredential | null;
  if (credential === null) return;
  const answer = await call('/v1/passkeys/signup', {
    response: registrationJSON(credential),
    mode: 'cookie',
  });
  if (answer.status === 'verification_sent') {
    if (status !== null) {
      status.textContent =
        'Check your mail: open the link we sent to confirm your address, then sign in with your passkey.';
    }
    return;
  }
  location.assign('/account?notice=welcome');
}

if (button !== null && typeof PublicKeyCredential !== 'undefined') {
  button.hidden = false;
  button.addEventListener('click', () => {
    if (status !== null) status.textContent = '';
    signUp().catch((error: unknown) => {
      if (cancelled(error) || status === null) return;
      status.textContent = `The passkey sign-up failed: ${error instanceof Error ? error.message : 'unknown error'}.`;
    });
  });
}
