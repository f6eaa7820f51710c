/** `/`: the account when signed in, the sign-in form otherwise (303 either way). */

import type { PageModule } from './page.js';

export const homePage: PageModule = {
  name: 'home',
  register(scope, kit) {
    scope.get('/', async (request, reply) => {
      const principal = await kit.signedIn(request, reply);
      return kit.redirect(reply, principal === null ? '/login' : '/account');
    });
  },
};
