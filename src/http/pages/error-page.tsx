/** The page of a request that no form can answer: not found, refused, or failed. */

import type { JSX } from 'preact';
import { Layout, type Site } from './layout.js';

const TITLES: Record<number, string> = {
  400: 'This request cannot be read',
  403: 'This request was refused',
  404: 'Page not found',
  405: 'This method is not allowed here',
  413: 'This form is too large',
  415: 'This form cannot be read',
  429: 'Too many requests',
  503: 'Unavailable for a moment',
};

export function ErrorView(props: { site: Site; status: number; message: string }): JSX.Element {
  const title =
    TITLES[props.status] ?? (props.status >= 500 ? 'Something went wrong' : 'This request failed');
  return (
    <Layout site={props.site} title={title}>
      <section class="lk-card lk-narrow" aria-labelledby="error-title">
        <h1 id="error-title">{title}</h1>
        <p class="lk-lead">{props.message}</p>
        <p>
          <a href="/">Go to the start page</a>
        </p>
      </section>
    </Layout>
  );
}
