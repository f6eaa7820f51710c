/** `/email/confirm?token=`: the page of an email change's link (a button; the post makes the change). */

import type { PageModule } from './page.js';
import { registerButtonPage } from './token-page.js';

export const emailConfirmPage: PageModule = {
  name: 'email-confirm',
  register(scope, kit) {
    registerButtonPage(scope, kit, {
      path: '/email/confirm',
      title: 'Confirm your new email',
      lead: 'Confirm that this new address is yours: your account will use it from now on.',
      button: 'Confirm the new address',
      again: { href: '/account', label: 'Go to your account' },
      async use(_request, reply, token) {
        await kit.latchkey.auth.confirmEmailChange(token);
        return kit.redirect(reply, '/account?notice=email_changed');
      },
    });
  },
};
