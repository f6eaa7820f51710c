/**
 * The script of `/account/passkeys`: "Add a passkey". Asks the server for creation options,
 * lets the browser create the passkey, sends it back with the name typed, then reloads the list.
 * The session's CSRF token comes from the form's `data-csrf` attribute (the page has no inline
 * script). Renaming and removing are plain forms and need no script.
 */

import { call, cancelled, creationOptions, registrationJSON } from './webauthn.js';

const form = document.querySelector<HTMLFormElement>('form[data-passkey-add]');
const status = document.getElementById('passkey-add-status');

function say(text: string): void {
  if (status !== null) status.textContent = text;
}

async function add(form: HTMLFormElement): Promise<void> {
  const csrf = form.dataset.csrf ?? '';
  const name = (form.elements.namedItem('name') as HTMLInputElement | null)?.value ?? '';
  const options = await call('/v1/passkeys/register/options', {}, csrf);
  const credential = (await navigator.credentials.create({
    publicKey: creationOptions(options),
  })) as PublicKeyCredential | null;
  if (credential === null) throw new DOMException('no credential', 'NotAllowedError');
  await call('/v1/passkeys/register', { response: registrationJSON(credential), name }, csrf);
  location.assign('/account/passkeys?notice=passkey_added');
}

if (form !== null) {
  if (typeof PublicKeyCredential === 'undefined') {
    say('This browser cannot create passkeys.');
  } else {
    const button = form.querySelector('button');
    if (button !== null) button.disabled = false;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      say('Follow your browser’s prompt…');
      add(form).catch((error: unknown) => {
        say(
          cancelled(error)
            ? 'No passkey was added.'
            : `No passkey was added: ${error instanceof Error ? error.message : 'unknown error'}.`,
        );
      });
    });
  }
}
