/**
 * The resource service of the packaging test, written into a fresh directory that holds
 * `@latchkey/verify` and Express only: it verifies an access token of the packed server and
 * prints what it saw as one JSON line. `SERVER_ENTRY` is the file URL of the packed server's
 * main module, to check that an error of the SDK is an instance of the server's LatchkeyError.
 */
export const EXPRESS_SERVICE = `
import express from 'express';
import { createVerifier, LatchkeyError } from '@latchkey/verify';
import { latchkeyExpress } from '@latchkey/verify/express';

const issuer = process.env.ISSUER;
const token = process.env.TOKEN;
const verifier = createVerifier({
  issuer,
  audience: issuer,
  algorithms: ['EdDSA'],
  jwksUri: issuer + '/.well-known/jwks.json',
  revocation: false,
});
await verifier.ready();

const app = express();
app.use('/orders', latchkeyExpress(verifier, { realm: 'orders' }));
app.get('/orders', (req, res) => res.json({ sub: req.principal.sub, sid: req.principal.sid }));
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const base = 'http://127.0.0.1:' + server.address().port + '/orders';

const call = async (authorization) => {
  const response = await fetch(base, authorization ? { headers: { authorization } } : {});
  return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
};
const forged = token.slice(0, -6) + (token.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA');
let thrown;
try {
  await verifier.verify('not.a.token');
} catch (error) {
  thrown = error;
}
const { LatchkeyError: ServerLatchkeyError } = await import(process.env.SERVER_ENTRY);
console.log(JSON.stringify({
  bearer: await call('Bearer ' + token),
  none: await call(undefined),
  forged: await call('Bearer ' + forged),
  thrown: {
    code: thrown?.code,
    sdkClass: thrown instanceof LatchkeyError,
    serverClass: thrown instanceof ServerLatchkeyError,
    serverClassIsAnother: ServerLatchkeyError !== LatchkeyError,
  },
}));
server.close();
await verifier.close();
`;
