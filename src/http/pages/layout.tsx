/**
 * The frame of every page and the pieces its forms are made of. Rendered on the server by
 * preact-render-to-string: every value reaches the HTML through JSX, which escapes text and
 * attributes by construction; no page builds HTML from strings.
 */

import type { ComponentChildren, JSX } from 'preact';

/** What every page knows of the site: the operator's brand and the stylesheets to link. */
export interface Site {
  brand: string;
  stylesheets: readonly string[];
  icon: string;
}

/** The signed-in visitor, for the header's "Sign out" form. */
export interface Visitor {
  email: string;
  csrfToken: string;
}

export interface LayoutProps {
  site: Site;
  title: string;
  visitor?: Visitor | null;
  children: ComponentChildren;
}

export function Layout({ site, title, visitor, children }: LayoutProps): JSX.Element {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{`${title} · ${site.brand}`}</title>
        <link rel="icon" href={site.icon} type="image/svg+xml" />
        {site.stylesheets.map((href) => (
          <link rel="stylesheet" href={href} key={href} />
        ))}
      </head>
      <body>
        <a class="lk-skip" href="#main">
          Skip to content
        </a>
        <header class="lk-header">
          <div class="lk-header-inner">
            <a class="lk-brand" href="/">
              {site.brand}
            </a>
            <nav class="lk-nav" aria-label="Account">
              {visitor ? (
                <>
                  <a href="/account">Account</a>
                  <form method="post" action="/logout">
                    <CSRFField token={visitor.csrfToken} />
                    <button type="submit" class="lk-secondary">
                      Sign out
                    </button>
                  </form>
                </>
              ) : (
                <>
                  <a href="/login">Sign in</a>
                  <a href="/signup">Create account</a>
                </>
              )}
            </nav>
          </div>
        </header>
        <main class="lk-main" id="main">
          {children}
        </main>
        <footer class="lk-footer">Secured by Latchkey</footer>
      </body>
    </html>
  );
}

export function CSRFField({ token }: { token: string }): JSX.Element {
  return <input type="hidden" name="csrf_token" value={token} />;
}

/** A refusal (role="alert", read out at once) or a notice (role="status"). */
export function Alert({
  kind,
  id,
  children,
}: {
  kind: 'error' | 'notice';
  id?: string | undefined;
  children: ComponentChildren;
}): JSX.Element {
  return (
    <div class={`lk-alert lk-${kind}`} role={kind === 'error' ? 'alert' : 'status'} id={id}>
      {children}
    </div>
  );
}

export interface FieldProps {
  id: string;
  label: string;
  type: 'email' | 'password' | 'text';
  name: string;
  autocomplete: string;
  value?: string;
  hint?: string;
  /** The id of the error this field is the cause of, for `aria-describedby`. */
  errorId?: string | undefined;
  required?: boolean;
  autofocus?: boolean;
  minLength?: number;
}

/** One labelled input; its hint and its error are tied to it for screen readers. */
export function Field(props: FieldProps): JSX.Element {
  const hintId = props.hint === undefined ? undefined : `${props.id}-hint`;
  const describedBy = [hintId, props.errorId].filter((id) => id !== undefined).join(' ');
  const attributes = {
    id: props.id,
    name: props.name,
    autocomplete: props.autocomplete,
    value: props.value,
    required: props.required ?? true,
    autofocus: props.autofocus,
    minLength: props.minLength,
    'aria-invalid': props.errorId === undefined ? undefined : ('true' as const),
    'aria-describedby': describedBy === '' ? undefined : describedBy,
  };
  return (
    <div class="lk-field">
      <label for={props.id}>{props.label}</label>
      {props.type === 'password' ? (
        <input type="password" {...attributes} />
      ) : props.type === 'email' ? (
        <input type="email" {...attributes} />
      ) : (
        <input type="text" {...attributes} />
      )}
      {props.hint === undefined ? null : (
        <span class="lk-hint" id={hintId}>
          {props.hint}
        </span>
      )}
    </div>
  );
}
