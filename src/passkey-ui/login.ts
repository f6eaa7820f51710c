/**
 * The script of `/login`: "Sign in with a passkey" (the button is `hidden` until this runs), and
 * conditional mediation where the browser has it (passkeys offered in the email field's
 * autofill, `autocomplete="username webauthn"`). Either way the assertion goes to
 * `/v1/passkeys/login` in cookie mode and the browser then goes to `/account`.
 */

import { assertionJSON, call, cancelled, requestOptions } from './webauthn.js';

const button = document.getElementById('passkey-login') as HTMLButtonElement | null;
const status = document.getElementById('passkey-login-status');
let pending: AbortController | null = null;

async function signIn(mediation: CredentialMediationRequirement | undefined): Promise<void> {
  pending?.abort();
  const controller = new AbortController();
  pending = controller;
  const options = await call('/v1/passkeys/login/options', {});
  const credential = (await navigator.credentials.get({
    publicKey: requestOptions(options),
    signal: controller.signal,
    ...(mediation === undefined ? {} : { mediation }),
  })) as PublicKeyCredential | null;
  if (credential === null) return;
  await call('/v1/passkeys/login', { response: assertionJSON(credential), mode: 'cookie' });
  location.assign('/account');
}

function failed(error: unknown): void {
  if (cancelled(error) || status === null) return;
  status.textContent = `The passkey sign-in failed: ${error instanceof Error ? error.message : 'unknown error'}.`;
}

if (button !== null && typeof PublicKeyCredential !== 'undefined') {
  button.hidden = false;
  button.addEventListener('click', () => {
    signIn(undefined).catch(failed);
  });
  const available = PublicKeyCredential.isConditionalMediationAvailable?.bind(PublicKeyCredential);
  if (available !== undefined) {
    available()
      .then((yes) => (yes ? signIn('conditional') : undefined))
      .catch(failed);
  }
}
