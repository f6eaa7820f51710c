/**
 * The markup of `/account/passkeys`: the user's passkeys (name, when added, when last used,
 * whether backed up), a rename and a remove form for each (plain forms, no script), and "Add a
 * passkey", which only the page's script (`src/passkey-ui/account.ts`) can do.
 */

import type { JSX } from 'preact';
import type { PasskeyRecord } from '../../records.js';
import { Alert, CSRFField, Field, Layout, type Site, type Visitor } from './layout.js';

/** `2026-01-01 09:30 UTC`: the same whatever the server's locale. */
function When({ at }: { at: number | null }): JSX.Element {
  if (at === null) return <>never</>;
  const iso = new Date(at).toISOString();
  return <time dateTime={iso}>{`${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`}</time>;
}

export interface PasskeysViewProps {
  site: Site;
  visitor: Visitor;
  email: string;
  passkeys: readonly PasskeyRecord[];
  /** The script's path, or null when it is not built. */
  script: string | null;
  notice?: string | null;
  /** A refusal of a rename or remove form, said above the list. */
  error?: string | null;
}

function backedUp(passkey: PasskeyRecord): string {
  if (passkey.backedUp) return 'Yes (synced)';
  return passkey.backupEligible ? 'Not yet' : 'No (this device only)';
}

function PasskeyItem(props: PasskeysViewProps & { passkey: PasskeyRecord; index: number }): JSX.Element {
  const { passkey, index } = props;
  return (
    <li class="lk-card lk-passkey" data-passkey-id={passkey.id}>
      <h3 class="lk-passkey-name">{passkey.name}</h3>
      <dl class="lk-who">
        <div>
          <dt>Added</dt>
          <dd>
            <When at={passkey.createdAt} />
          </dd>
        </div>
        <div>
          <dt>Last used</dt>
          <dd>
            <When at={passkey.lastUsedAt} />
          </dd>
        </div>
        <div>
          <dt>Backed up</dt>
          <dd>{backedUp(passkey)}</dd>
        </div>
      </dl>
      <form method="post" action="/account/passkeys/rename" class="lk-subform">
        <CSRFField token={props.visitor.csrfToken} />
        <input type="hidden" name="passkey_id" value={passkey.id} />
        <Field
          id={`rename-${index}`}
          name="name"
          type="text"
          label="Name"
          autocomplete="off"
          value={passkey.name}
        />
        <button type="submit" class="lk-secondary">
          Rename
        </button>
      </form>
      <form method="post" action="/account/passkeys/remove" class="lk-subform">
        <CSRFField token={props.visitor.csrfToken} />
        <input type="hidden" name="passkey_id" value={passkey.id} />
        <input type="text" name="username" autocomplete="username" value={props.email} hidden />
        <Field
          id={`remove-${index}`}
          name="password"
          type="password"
          label="Password"
          autocomplete="current-password"
          hint="Your other sessions will be signed out."
        />
        <button type="submit" class="lk-danger">
          Remove
        </button>
      </form>
    </li>
  );
}

export function PasskeysView(props: PasskeysViewProps): JSX.Element {
  return (
    <Layout site={props.site} title="Passkeys" visitor={props.visitor}>
      <section class="lk-card" aria-labelledby="passkeys-title">
        <p class="lk-back">
          <a href="/account">← Account</a>
        </p>
        <h1 id="passkeys-title">Passkeys</h1>
        {props.notice ? <Alert kind="notice">{props.notice}</Alert> : null}
        {props.error ? (
          <Alert kind="error" id="passkeys-error">
            {props.error}
          </Alert>
        ) : null}
        <p class="lk-lead">
          Sign in with your fingerprint, face or screen lock instead of a password. A passkey stays on your
          device or in your password manager; this site keeps only its public key.
        </p>
        <form class="lk-subform" data-passkey-add data-csrf={props.visitor.csrfToken}>
          <Field
            id="passkey-name"
            name="name"
            type="text"
            label="Name (optional)"
            autocomplete="off"
            required={false}
          />
          {/* Enabled by the script: without it there is nothing this button could do. */}
          <button type="submit" class="lk-primary" disabled>
            Add a passkey
          </button>
          <p id="passkey-add-status" aria-live="polite">
            {props.script === null ? 'Adding a passkey needs the page script: run npm run build.' : null}
          </p>
          <noscript>
            <p>Adding a passkey needs JavaScript; renaming and removing do not.</p>
          </noscript>
        </form>
      </section>
      <section aria-labelledby="passkeys-list-title">
        <h2 id="passkeys-list-title">Your passkeys ({props.passkeys.length})</h2>
        {props.passkeys.length === 0 ? (
          <p id="passkeys-empty">No passkeys yet.</p>
        ) : (
          <ul class="lk-passkeys">
            {props.passkeys.map((passkey, index) => (
              <PasskeyItem {...props} passkey={passkey} index={index} key={passkey.id} />
            ))}
          </ul>
        )}
      </section>
      {props.script === null ? null : <script type="module" src={props.script}></script>}
    </Layout>
  );
}
