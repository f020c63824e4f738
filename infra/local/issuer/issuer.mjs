// Local OAuth 2.0 issuer that answers the client-credentials grant the way Auth0 does.
// oauth2-mock-server provides the key, signing, discovery and JWKS; this script adds
// registered clients, client authentication (client_auth.mjs), DPoP-bound tokens (dpop.mjs)
// and Auth0's claims on the token endpoint.
//
// Environment:
//   ISSUER_PORT                   port to listen on, on 127.0.0.1
//   ISSUER_EXTRA_ADDRESS          optional second address to listen on (the docker bridge
//                                 gateway, for `sam local` containers); nothing else is listened on
//   ISSUER_URL                    optional issuer identifier (iss, discovery, the assertion
//                                 audience), default http://127.0.0.1:PORT/
//   ISSUER_CLIENTS                JSON array of registered clients, each
//       {"client_id", "scope", "client_secret"}  authenticates by client_secret_post or
//                                                client_secret_basic (RFC 6749 §2.3.1), or
//       {"client_id", "scope", "jwks": {"keys": [public JWK, ...]}}
//                                                authenticates by private_key_jwt only
//                                                (RFC 7523 §2.2; `jwks` as in RFC 7591 §2),
//       and optionally "dpop_bound_access_tokens": true (RFC 9449 §5.2): its token requests
//       must carry a DPoP proof.
//   ISSUER_TOKEN_TTL_SECONDS      access token lifetime, default 86400 (Auth0's default)
//   ISSUER_DPOP_NONCE             `required`: DPoP proofs must carry a nonce from the
//                                 DPoP-Nonce header (RFC 9449 §8); unset or `off`: no nonce
//   ISSUER_DPOP_NONCE_TTL_SECONDS lifetime of each nonce handed out, default 300
//   ISSUER_RFC8707_CLIENTS        comma-separated client ids served in standards mode (see
//                                 resource_indicators.mjs): `resource` and requested `scope`
//                                 instead of Auth0's `audience` and granted scopes
//   ISSUER_ROTATION_DELAY_SECONDS see rotation.mjs: client secret rotation, as Auth0 does it
//
// private_key_jwt, as Auth0 checks it: client_assertion_type
// urn:ietf:params:oauth:client-assertion-type:jwt-bearer; alg RS256, PS256 or ES256 and the
// registered key's alg when it has one; the key chosen by kid (without a kid, each key of
// the client is tried); iss = sub = client_id; aud = the issuer URL with its trailing slash
// (Auth0's `https://{domain}/`) or the token endpoint URL, both accepted; exp required, in the
// future and at most 300 s after iat (or after now without iat); iat and nbf up to 10 s ahead;
// jti required (at most 64 characters) and refused a second time while the assertion lives.
// Every attempt needs a new assertion, the retry after use_dpop_nonce too: the assertion is
// checked, and its jti used up, before the DPoP proof. Failures: 401 invalid_client with a
// fixed error_description that never repeats the assertion.
//
// DPoP: a token request with a valid DPoP header (typ dpop+jwt, alg ES256/PS256/RS256, public
// jwk header, htm POST, htu the URL of the token endpoint the request was sent to, iat at most
// 300 s old and 10 s ahead, jti not used before, nonce when required) gets token_type DPoP
// and an access token with cnf.jkt, the RFC 7638 SHA-256 thumbprint of the proof's key.
// An invalid proof: 400 invalid_dpop_proof; a missing or stale nonce: 400 use_dpop_nonce
// with a DPoP-Nonce header. Successful answers carry the next nonce too when nonces are on.
import { createServer } from "node:http";
import { createLocalJWKSet, importJWK } from "jose";
import { OAuth2Issuer, OAuth2Service } from "oauth2-mock-server";
import { ASSERTION_ALGS, authenticateClient } from "./client_auth.mjs";
import { DPOP_ALGS, DpopVerifier } from "./dpop.mjs";
import { OAuthError } from "./oauth_error.mjs";
import { ReplayCache } from "./replay.mjs";
import { readBody } from "./request_body.mjs";
import { ResourceIndicators } from "./resource_indicators.mjs";
import { SecretRotation, rotationDelaySeconds } from "./rotation.mjs";

const HOST = "127.0.0.1";
// Auth0's paths, so `{issuer}oauth/token` and `{issuer}.well-known/jwks.json` also work
// for clients that skip discovery.
const ENDPOINTS = { token: "/oauth/token", jwks: "/.well-known/jwks.json" };
// oauth2-mock-server's own token path, kept as an alias for clients written against it.
const TOKEN_PATHS = new Set([ENDPOINTS.token, "/token"]);
const MAX_BODY_BYTES = 16 * 1024;
const CLIENTS_SHAPE =
  'ISSUER_CLIENTS must be a JSON array of {"client_id", "scope", and "client_secret" or "jwks"}';

function fail(message) {
  console.error(`issuer: ${message}`);
  process.exit(2);
}

function positiveInteger(env, name, fallback) {
  const value = env[name] === undefined ? fallback : Number(env[name]);
  if (!Number.isInteger(value) || value < 1) {
    fail(`${name} must be a positive integer`);
  }
  return value;
}

// A registered JWKS: public signing keys of the assertion algorithms only, checked at start-up
// so a bad registration fails here rather than as invalid_client later.
async function readKeySet(clientId, jwks) {
  if (!jwks || !Array.isArray(jwks.keys) || jwks.keys.length === 0) {
    fail(`client ${clientId}: jwks must be {"keys": [JWK, ...]} with at least one key`);
  }
  for (const jwk of jwks.keys) {
    const alg = jwk?.alg ?? (jwk?.kty === "EC" ? "ES256" : "RS256");
    if (!ASSERTION_ALGS.includes(alg)) {
      fail(`client ${clientId}: key alg must be one of ${ASSERTION_ALGS.join(", ")}`);
    }
    let key;
    try {
      key = await importJWK(jwk, alg);
    } catch (err) {
      fail(`client ${clientId}: a key in jwks is not a valid ${alg} JWK (${err.code ?? err.message})`);
    }
    if (key.type !== "public") {
      fail(`client ${clientId}: jwks must hold public keys only`);
    }
  }
  return createLocalJWKSet(jwks);
}

async function readClients(text) {
  let list;
  try {
    list = JSON.parse(text ?? "");
  } catch {
    fail(CLIENTS_SHAPE);
  }
  if (!Array.isArray(list)) {
    fail(CLIENTS_SHAPE);
  }
  const clients = new Map();
  for (const c of list) {
    const hasSecret = typeof c?.client_secret === "string" && c.client_secret !== "";
    const ok =
      c && typeof c.client_id === "string" && c.client_id !== "" &&
      hasSecret !== (c.jwks !== undefined) &&
      (c.scope === undefined || typeof c.scope === "string") &&
      (c.dpop_bound_access_tokens === undefined || typeof c.dpop_bound_access_tokens === "boolean");
    if (!ok) {
      fail(
        "each ISSUER_CLIENTS entry needs a non-empty client_id, either a client_secret or a jwks, " +
          "a string scope and a boolean dpop_bound_access_tokens if any",
      );
    }
    clients.set(c.client_id, {
      secret: hasSecret ? c.client_secret : undefined,
      keySet: hasSecret ? undefined : await readKeySet(c.client_id, c.jwks),
      scope: c.scope ?? "",
      dpopBound: c.dpop_bound_access_tokens === true,
    });
  }
  return clients;
}

async function readConfig(env) {
  const port = Number(env.ISSUER_PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    fail("ISSUER_PORT must be a port number");
  }
  const ttl = positiveInteger(env, "ISSUER_TOKEN_TTL_SECONDS", 86400);
  const nonceMode = env.ISSUER_DPOP_NONCE ?? "off";
  if (!["off", "required", ""].includes(nonceMode)) {
    fail("ISSUER_DPOP_NONCE must be `required` or `off`");
  }
  const nonceTtl = positiveInteger(env, "ISSUER_DPOP_NONCE_TTL_SECONDS", 300);
  const url = env.ISSUER_URL || `http://${HOST}:${port}/`;
  if (!/^http:\/\/[^/?#]+\/$/.test(url)) {
    fail("ISSUER_URL must be http://HOST:PORT/ with the trailing slash");
  }
  return {
    port,
    ttl,
    clients: await readClients(env.ISSUER_CLIENTS),
    nonceTtlSeconds: nonceMode === "required" ? nonceTtl : null,
    url,
    hosts: [HOST, ...(env.ISSUER_EXTRA_ADDRESS ? [env.ISSUER_EXTRA_ADDRESS] : [])],
  };
}

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
    Pragma: "no-cache",
    ...headers,
  });
  res.end(text);
}

async function readForm(req) {
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  const body = await readBody(req, MAX_BODY_BYTES);
  if (type !== "application/x-www-form-urlencoded") {
    throw new OAuthError(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded.");
  }
  const form = new Map();
  for (const [key, value] of new URLSearchParams(body.toString("utf8"))) {
    // RFC 6749 §3.2: request parameters must not be repeated.
    if (form.has(key)) {
      throw new OAuthError(400, "invalid_request", `Parameter '${key}' is repeated.`);
    }
    form.set(key, value);
  }
  return form;
}

// Auth0 grants the requested scopes that the client holds; no `scope` means all of them.
function grantedScope(client, requested) {
  const held = client.scope.split(" ").filter(Boolean);
  if (requested === undefined) {
    return held.join(" ");
  }
  const granted = requested.split(" ").filter((s) => s && held.includes(s));
  if (granted.length === 0 && requested.trim() !== "") {
    throw new OAuthError(400, "invalid_scope", "None of the requested scopes is granted to this client.");
  }
  return [...new Set(granted)].join(" ");
}

// Auth0 picks the API by the required `audience` and grants the client's scopes.
function auth0Grant(client, form) {
  const audience = form.get("audience");
  if (!audience) {
    throw new OAuthError(400, "invalid_request", "Missing 'audience'.");
  }
  return { audience, scope: grantedScope(client, form.get("scope")), opaque: undefined };
}

// context: { service, config, issuerUrl, assertionAudiences, replay, dpop, resourceIndicators }.
async function tokenEndpoint(context, req, res, requestUrl) {
  const { service, config, dpop } = context;
  const form = await readForm(req);
  const grantType = form.get("grant_type");
  if (!grantType) {
    throw new OAuthError(400, "invalid_request", "Missing 'grant_type'.");
  }
  if (grantType !== "client_credentials") {
    throw new OAuthError(400, "unsupported_grant_type", "Only client_credentials is supported.");
  }
  const client = await authenticateClient(config.clients, req, form, context);
  const proof = await dpop.verify(req, requestUrl);
  if (proof === null && client.dpopBound) {
    throw new OAuthError(400, "invalid_request", "This client must send a DPoP proof.");
  }
  const { audience, scope, opaque } = context.resourceIndicators.serves(client.id)
    ? context.resourceIndicators.grant(client, form)
    : auth0Grant(client, form);

  const accessToken = opaque ?? (await service.buildToken(req, config.ttl, (_header, payload) => {
    // Auth0's machine-to-machine access token claims; no nbf, as Auth0 sends none.
    delete payload.nbf;
    Object.assign(payload, {
      aud: audience,
      sub: `${client.id}@clients`,
      azp: client.id,
      scope,
      gty: "client-credentials",
    });
    // RFC 9449 §6.1: the token is bound to the proof's key.
    if (proof !== null) {
      payload.cnf = { jkt: proof.jkt };
    }
  }));
  const tokenType = proof === null ? "Bearer" : "DPoP";
  console.log(
    `token issued client_id=${client.id} audience=${audience} scope="${scope}" ` +
      `client_auth=${client.method} token_type=${tokenType}`,
  );
  const headers = proof === null ? {} : dpop.answerHeaders();
  send(res, 200, { access_token: accessToken, token_type: tokenType, expires_in: config.ttl, scope }, headers);
}

async function main() {
  const config = await readConfig(process.env);
  const issuerUrl = config.url;
  const tokenUrl = new URL(ENDPOINTS.token.slice(1), issuerUrl).href;

  // true: keep the trailing slash, as in Auth0's `https://{domain}/`.
  const issuer = new OAuth2Issuer(true);
  // Set before listening: the library would otherwise name it `localhost`.
  issuer.url = issuerUrl;
  const key = await issuer.keys.generate("RS256");
  key.use = "sig";

  const service = new OAuth2Service(issuer, ENDPOINTS);
  service.on("beforeWellKnownOpenIdConfiguration", (response) => {
    Object.assign(response.body, {
      grant_types_supported: ["client_credentials"],
      token_endpoint_auth_methods_supported: ["client_secret_post", "client_secret_basic", "private_key_jwt"],
      token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
      dpop_signing_alg_values_supported: DPOP_ALGS,
    });
  });
  const fallback = service.requestHandler;
  const replay = new ReplayCache();
  const context = {
    service,
    config,
    issuerUrl,
    assertionAudiences: [issuerUrl, tokenUrl],
    replay,
    dpop: new DpopVerifier({ nonceTtlSeconds: config.nonceTtlSeconds, replay }),
    resourceIndicators: ResourceIndicators.fromEnv(process.env),
  };

  const rotation = new SecretRotation(config.clients, { delaySeconds: rotationDelaySeconds(process.env), send });

  const handle = (req, res) => {
    const url = new URL(req.url ?? "/", issuerUrl);
    if (rotation.handles(req, res, url)) {
      return;
    }
    const path = url.pathname.replace(/(.)\/$/, "$1");
    if (!TOKEN_PATHS.has(path)) {
      fallback(req, res);
      return;
    }
    if (req.method !== "POST") {
      send(res, 405, { error: "invalid_request", error_description: "Use POST." }, { Allow: "POST" });
      return;
    }
    tokenEndpoint(context, req, res, `${url.origin}${url.pathname}`).catch((err) => {
      if (err instanceof OAuthError) {
        console.log(`token refused error=${err.code} description="${err.message}"`);
        send(res, err.status, { error: err.code, error_description: err.message }, err.headers);
        return;
      }
      console.error(`token endpoint failed: ${err?.name ?? "Error"}`);
      send(res, 500, { error: "server_error", error_description: "Internal error." });
    });
  };
  // One server per address, all on the one handler (so one replay cache and one key).
  const servers = config.hosts.map((host) => {
    const server = createServer(handle);
    server.on("error", (err) => fail(`cannot listen on ${host}:${config.port}: ${err.code ?? err.message}`));
    return server;
  });

  const stop = () => {
    let open = servers.length;
    for (const server of servers) {
      server.close(() => {
        open -= 1;
        if (open === 0) process.exit(0);
      });
      server.closeAllConnections();
    }
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);

  let listening = 0;
  servers.forEach((server, i) =>
    server.listen(config.port, config.hosts[i], () => {
      listening += 1;
      if (listening === servers.length) {
        console.log(`issuer ready at ${issuerUrl} (listening on ${config.hosts.join(", ")})`);
      }
    }),
  );
}

main().catch((err) => fail(err?.message ?? String(err)));
