/**
 * The views of the pages the mails link to (`/forgot`, `/reset`, `/verify`, `/login/link`,
 * `/email/confirm`). A link's token is only ever put in a hidden field of a form that posts;
 * opening a link (a GET, which a mail client's link scanner may do) never uses it.
 */

import type { ComponentChildren, JSX } from 'preact';
import { Alert, CSRFField, Field, Layout, type Site } from './layout.js';

/** The neutral answer of every "mail me a link" form: the same whether or not an account exists. */
export const SENT_MESSAGE =
  'If an account exists for that address, we have sent it an email with a link. The link works once and expires soon; check your spam folder if it does not arrive.';

/** What a page says of a link that is invalid, expired or already used. */
export const INVALID_LINK_MESSAGE = 'This link is invalid, has expired or was already used.';

interface CardProps {
  site: Site;
  title: string;
  lead?: string | undefined;
  error?: string | null | undefined;
  notice?: string | null | undefined;
  children?: ComponentChildren;
}

/** A narrow card with a title, a lead, and an error or notice. */
export function MailCard(props: CardProps): JSX.Element {
  return (
    <Layout site={props.site} title={props.title}>
      <section class="lk-card lk-narrow" aria-labelledby="page-title">
        <h1 id="page-title">{props.title}</h1>
        {props.lead ? <p class="lk-lead">{props.lead}</p> : null}
        {props.notice ? <Alert kind="notice">{props.notice}</Alert> : null}
        {props.error ? (
          <Alert kind="error" id="page-error">
            {props.error}
          </Alert>
        ) : null}
        {props.children}
      </section>
    </Layout>
  );
}

/** A form that asks for an address (forgot password, a sign-in link, a new verification link). */
export function EmailForm(props: {
  action: string;
  csrfToken: string;
  button: string;
  email?: string | undefined;
  error?: boolean;
}): JSX.Element {
  return (
    <form method="post" action={props.action}>
      <CSRFField token={props.csrfToken} />
      <Field
        id={`${props.action.replace(/\W/g, '')}-email`}
        name="email"
        type="email"
        label="Email"
        autocomplete="email"
        value={props.email ?? ''}
        errorId={props.error === true ? 'page-error' : undefined}
      />
      <button type="submit" class="lk-primary">
        {props.button}
      </button>
    </form>
  );
}

/** The button form of a link's page: the token in a hidden field, used only by the post. */
export function TokenForm(props: {
  action: string;
  csrfToken: string;
  token: string;
  button: string;
  confirm?: boolean;
  children?: ComponentChildren;
}): JSX.Element {
  return (
    <form method="post" action={props.action}>
      <CSRFField token={props.csrfToken} />
      <input type="hidden" name="token" value={props.token} />
      {props.confirm === true ? <input type="hidden" name="confirm" value="yes" /> : null}
      {props.children}
      <button type="submit" class="lk-primary">
        {props.button}
      </button>
    </form>
  );
}

/** A link's page once the link turned out unusable: what to do instead. */
export function InvalidLinkView(props: {
  site: Site;
  title: string;
  again: { href: string; label: string };
}): JSX.Element {
  return (
    <MailCard site={props.site} title={props.title} error={INVALID_LINK_MESSAGE}>
      <p class="lk-switch">
        <a href={props.again.href}>{props.again.label}</a>
      </p>
    </MailCard>
  );
}
