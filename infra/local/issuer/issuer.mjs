// Local OAuth 2.0 issuer that answers the client-credentials grant the way Auth0 does.
// oauth2-mock-server provides the key, signing, discovery and JWKS; this script adds
// registered clients, client authentication and Auth0's claims on the token endpoint.
//
// Environment:
//   ISSUER_PORT              port to listen on (127.0.0.1 only)
//   ISSUER_CLIENTS           JSON array [{"client_id", "client_secret", "scope"}]
//   ISSUER_TOKEN_TTL_SECONDS access token lifetime, default 86400 (Auth0's default)
import { createServer } from "node:http";
import { createHash, timingSafeEqual } from "node:crypto";
import { OAuth2Issuer, OAuth2Service } from "oauth2-mock-server";

const HOST = "127.0.0.1";
// Auth0's paths, so `{issuer}oauth/token` and `{issuer}.well-known/jwks.json` also work
// for clients that skip discovery.
const ENDPOINTS = { token: "/oauth/token", jwks: "/.well-known/jwks.json" };
// oauth2-mock-server's own token path, kept as an alias for clients written against it.
const TOKEN_PATHS = new Set([ENDPOINTS.token, "/token"]);
const MAX_BODY_BYTES = 16 * 1024;

function fail(message) {
  console.error(`issuer: ${message}`);
  process.exit(2);
}

function readConfig(env) {
  const port = Number(env.ISSUER_PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    fail("ISSUER_PORT must be a port number");
  }
  const ttl = env.ISSUER_TOKEN_TTL_SECONDS === undefined ? 86400 : Number(env.ISSUER_TOKEN_TTL_SECONDS);
  if (!Number.isInteger(ttl) || ttl < 1) {
    fail("ISSUER_TOKEN_TTL_SECONDS must be a positive integer");
  }
  let list;
  try {
    list = JSON.parse(env.ISSUER_CLIENTS ?? "");
  } catch {
    fail("ISSUER_CLIENTS must be a JSON array of {client_id, client_secret, scope}");
  }
  if (!Array.isArray(list)) {
    fail("ISSUER_CLIENTS must be a JSON array of {client_id, client_secret, scope}");
  }
  const clients = new Map();
  for (const c of list) {
    const ok =
      c && typeof c.client_id === "string" && c.client_id !== "" &&
      typeof c.client_secret === "string" && c.client_secret !== "" &&
      (c.scope === undefined || typeof c.scope === "string");
    if (!ok) {
      fail("each ISSUER_CLIENTS entry needs a non-empty client_id and client_secret, and a string scope");
    }
    clients.set(c.client_id, { secret: c.client_secret, scope: c.scope ?? "" });
  }
  return { port, ttl, clients };
}

// Compare digests so neither the length nor the content of the secret leaks through timing.
function secretMatches(given, expected) {
  const a = createHash("sha256").update(given, "utf8").digest();
  const b = createHash("sha256").update(expected, "utf8").digest();
  return timingSafeEqual(a, b);
}

class OAuthError extends Error {
  constructor(status, code, description, headers = {}) {
    super(description);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
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
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new OAuthError(400, "invalid_request", "Request body too large.");
    }
    chunks.push(chunk);
  }
  if (type !== "application/x-www-form-urlencoded") {
    throw new OAuthError(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded.");
  }
  const form = new Map();
  for (const [key, value] of new URLSearchParams(Buffer.concat(chunks).toString("utf8"))) {
    // RFC 6749 §3.2: request parameters must not be repeated.
    if (form.has(key)) {
      throw new OAuthError(400, "invalid_request", `Parameter '${key}' is repeated.`);
    }
    form.set(key, value);
  }
  return form;
}

// RFC 6749 §2.3.1: client_secret_basic (id and secret form-encoded inside Basic) or
// client_secret_post (form fields); using both at once is an error.
function clientCredentials(req, form) {
  const header = req.headers.authorization;
  // A client_id beside Basic is tolerated when it names the same client; a secret is not.
  const formId = form.get("client_id");
  if (header !== undefined) {
    const match = /^Basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(header);
    if (!match) {
      throw new OAuthError(401, "invalid_client", "Unsupported client authentication.", {
        "WWW-Authenticate": 'Basic realm="oauth"',
      });
    }
    if (form.has("client_secret")) {
      throw new OAuthError(400, "invalid_request", "Use one client authentication method only.");
    }
    const decoded = Buffer.from(match[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) {
      throw new OAuthError(401, "invalid_client", "Malformed Basic credentials.", {
        "WWW-Authenticate": 'Basic realm="oauth"',
      });
    }
    const raw = { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1), basic: true };
    // RFC 6749 wants both parts form-encoded, but many clients send them raw: accept either.
    let creds = raw;
    try {
      const unform = (s) => decodeURIComponent(s.replace(/\+/g, " "));
      const formDecoded = { id: unform(raw.id), secret: unform(raw.secret), basic: true };
      creds = { ...raw, alternative: formDecoded };
    } catch {
      // Not valid form encoding: only the raw reading applies.
    }
    if (formId !== undefined && formId !== creds.id && formId !== creds.alternative?.id) {
      throw new OAuthError(400, "invalid_request", "client_id differs from the Basic credentials.");
    }
    return creds;
  }
  return { id: formId, secret: form.get("client_secret"), basic: false };
}

function authenticate(clients, creds) {
  const challenge = creds.basic ? { "WWW-Authenticate": 'Basic realm="oauth"' } : {};
  if (!creds.id || creds.secret === undefined) {
    throw new OAuthError(401, "invalid_client", "Client authentication is required.", challenge);
  }
  for (const candidate of [creds, creds.alternative]) {
    const client = candidate && clients.get(candidate.id);
    if (client !== undefined && secretMatches(candidate.secret, client.secret)) {
      return { id: candidate.id, ...client };
    }
  }
  // Same answer for an unknown client and a wrong secret, as Auth0 does.
  throw new OAuthError(401, "invalid_client", "Unknown client or wrong client secret.", challenge);
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

async function tokenEndpoint(service, config, req, res) {
  const form = await readForm(req);
  const grantType = form.get("grant_type");
  if (!grantType) {
    throw new OAuthError(400, "invalid_request", "Missing 'grant_type'.");
  }
  if (grantType !== "client_credentials") {
    throw new OAuthError(400, "unsupported_grant_type", "Only client_credentials is supported.");
  }
  const client = authenticate(config.clients, clientCredentials(req, form));
  const audience = form.get("audience");
  if (!audience) {
    throw new OAuthError(400, "invalid_request", "Missing 'audience'.");
  }
  const scope = grantedScope(client, form.get("scope"));

  const accessToken = await service.buildToken(req, config.ttl, (_header, payload) => {
    // Auth0's machine-to-machine access token claims; no nbf, as Auth0 sends none.
    delete payload.nbf;
    Object.assign(payload, {
      aud: audience,
      sub: `${client.id}@clients`,
      azp: client.id,
      scope,
      gty: "client-credentials",
    });
  });
  console.log(`token issued client_id=${client.id} audience=${audience} scope="${scope}"`);
  send(res, 200, { access_token: accessToken, token_type: "Bearer", expires_in: config.ttl, scope });
}

async function main() {
  const config = readConfig(process.env);
  const issuerUrl = `http://${HOST}:${config.port}/`;

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
      token_endpoint_auth_methods_supported: ["client_secret_post", "client_secret_basic"],
    });
  });
  const fallback = service.requestHandler;

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", issuerUrl).pathname.replace(/(.)\/$/, "$1");
    if (!TOKEN_PATHS.has(path)) {
      fallback(req, res);
      return;
    }
    if (req.method !== "POST") {
      send(res, 405, { error: "invalid_request", error_description: "Use POST." }, { Allow: "POST" });
      return;
    }
    tokenEndpoint(service, config, req, res).catch((err) => {
      if (err instanceof OAuthError) {
        console.log(`token refused error=${err.code}`);
        send(res, err.status, { error: err.code, error_description: err.message }, err.headers);
        return;
      }
      console.error(`token endpoint failed: ${err?.name ?? "Error"}`);
      send(res, 500, { error: "server_error", error_description: "Internal error." });
    });
  });

  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);

  server.on("error", (err) => fail(`cannot listen on ${HOST}:${config.port}: ${err.code ?? err.message}`));
  server.listen(config.port, HOST, () => console.log(`issuer ready at ${issuerUrl}`));
}

main().catch((err) => fail(err?.message ?? String(err)));
