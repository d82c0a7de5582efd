// A real OAuth2 issuer for fhircheck's end-to-end suite: oidc-provider with client credentials,
// resource indicators (JWT access tokens for one FHIR audience) and three clients, one per way of
// authenticating. Listens on 127.0.0.1 only, on a free port. On standard output it prints two
// tokens a resource server must refuse, then `READY <port>`:
//   EXPIRED <jwt>  signed with the published key, expired ten minutes ago
//   FOREIGN <jwt>  valid in every claim, signed with a key the issuer never published
//
//   node issuer.mjs <fhir audience> <client JWKS file> [other resource the issuer grants...]
import http from 'node:http';
import fs from 'node:fs';
import Provider, { errors } from 'oidc-provider';
import * as jose from 'jose';

const [audience, jwksFile, ...otherResources] = process.argv.slice(2);
const resources = [audience, ...otherResources];
const clientJwks = JSON.parse(fs.readFileSync(jwksFile, 'utf8'));
const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signing = { ...(await jose.exportJWK(privateKey)), kid: 'e2e-issuer-key', alg: 'RS256', use: 'sig' };

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = server.address().port;
const issuer = `http://127.0.0.1:${port}`;

const base = { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] };
const provider = new Provider(issuer, {
  clients: [
    { ...base, client_id: 'post-client', client_secret: 'e2e-post-client-secret-value', token_endpoint_auth_method: 'client_secret_post', scope: 'system/Patient.rs system/Patient.cud' },
    { ...base, client_id: 'basic-client', client_secret: 'e2e-basic-client-secret-value', token_endpoint_auth_method: 'client_secret_basic', scope: 'system/Patient.rs system/Patient.cud' },
    { ...base, client_id: 'jwt-client', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES384', jwks: clientJwks, scope: 'system/Patient.rs system/Patient.cud' },
    { ...base, client_id: 'read-only-client', client_secret: 'e2e-read-only-secret-value', token_endpoint_auth_method: 'client_secret_post', scope: 'system/Patient.rs' },
  ],
  jwks: { keys: [signing] },
  scopes: ['system/Patient.rs', 'system/Patient.cud'],
  enabledJWA: { clientAuthSigningAlgValues: ['RS256', 'RS384', 'ES256', 'ES384', 'PS256'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resourceIndicator) => {
        if (!resources.includes(resourceIndicator)) throw new errors.InvalidTarget();
        return {
          scope: 'system/Patient.rs system/Patient.cud',
          audience: resourceIndicator,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 300,
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
});
server.on('request', provider.callback());
process.on('SIGTERM', () => server.close(() => process.exit(0)));
const now = Math.floor(Date.now() / 1000);
const claims = { iss: issuer, aud: audience, sub: 'post-client', client_id: 'post-client', scope: 'system/Patient.rs' };
const expired = await new jose.SignJWT(claims)
  .setProtectedHeader({ alg: 'RS256', kid: signing.kid, typ: 'at+jwt' })
  .setIssuedAt(now - 900).setExpirationTime(now - 600).setJti('e2e-expired').sign(privateKey);
const { privateKey: unpublished } = await jose.generateKeyPair('RS256');
const foreign = await new jose.SignJWT(claims)
  .setProtectedHeader({ alg: 'RS256', kid: 'e2e-unpublished-key', typ: 'at+jwt' })
  .setIssuedAt(now).setExpirationTime(now + 300).setJti('e2e-foreign').sign(unpublished);
console.log(`EXPIRED ${expired}`);
console.log(`FOREIGN ${foreign}`);
console.log(`READY ${port}`);
