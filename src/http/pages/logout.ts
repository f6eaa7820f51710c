/** `POST /logout`: ends this session (the header's "Sign out" button), then the sign-in page. */

import { clearAuthCookies } from '../auth-cookies.js';
import { readForm } from './form-body.js';
import { CSRF_REFUSAL, type PageModule } from './page.js';

export const logoutPage: PageModule = {
  name: 'logout',
  register(scope, kit) {
    scope.post('/logout', async (request, reply) => {
      const principal = await kit.signedIn(request, reply);
      if (principal === null) return kit.redirect(reply, '/login?notice=signed_out');
      const form = readForm(request.body, { csrf_token: { maxLength: 128 } });
      if (!kit.checkSessionToken(request, principal, form.csrf_token)) {
        return kit.renderError(reply, CSRF_REFUSAL.status, CSRF_REFUSAL.message);
      }
      await kit.latchkey.auth.logout(principal);
      clearAuthCookies(reply, kit.names);
      return kit.redirect(reply, '/login?notice=signed_out');
    });
  },
};
