// Client authentication at the token endpoint, as Auth0 does it:
//   client_secret_post / client_secret_basic (RFC 6749 §2.3.1) for clients registered with a
//   client_secret, private_key_jwt (RFC 7523 §2.2, OpenID Connect Core §9) for clients
//   registered with a JWKS. A client authenticates only by the method its registration allows.
import { createHash, timingSafeEqual } from "node:crypto";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify } from "jose";
import { OAuthError } from "./oauth_error.mjs";

export const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
// Auth0 registers RS256, RS384 and PS256 credentials; ES256 is here for other issuers and
// for KMS ECC_NIST_P256 keys. Never `none` or an HMAC algorithm.
export const ASSERTION_ALGS = ["RS256", "PS256", "ES256"];
// Auth0: exp at most 5 minutes after iat; 10 seconds of clock skew for iat and nbf.
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
export const CLOCK_SKEW_SECONDS = 10;
// Auth0's length limit for jti.
const MAX_JTI_LENGTH = 64;

const BASIC_CHALLENGE = { "WWW-Authenticate": 'Basic realm="oauth"' };

// Compare digests so neither the length nor the content of the secret leaks through timing.
function secretMatches(given, expected) {
  const a = createHash("sha256").update(given, "utf8").digest();
  const b = createHash("sha256").update(expected, "utf8").digest();
  return timingSafeEqual(a, b);
}

function invalidClient(description, headers = {}) {
  return new OAuthError(401, "invalid_client", description, headers);
}

// Which method the request uses; more than one at once is an error (RFC 6749 §2.3).
function methodOf(req, form) {
  const used = [];
  if (req.headers.authorization !== undefined) used.push("client_secret_basic");
  if (form.has("client_secret")) used.push("client_secret_post");
  if (form.has("client_assertion") || form.has("client_assertion_type")) used.push("private_key_jwt");
  if (used.length > 1) {
    throw new OAuthError(400, "invalid_request", "Use one client authentication method only.");
  }
  return used[0];
}

// client_secret_basic: id and secret form-encoded inside Basic (RFC 6749 §2.3.1).
function basicCredentials(req, form) {
  const match = /^Basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(req.headers.authorization);
  if (!match) {
    throw invalidClient("Unsupported client authentication.", BASIC_CHALLENGE);
  }
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) {
    throw invalidClient("Malformed Basic credentials.", BASIC_CHALLENGE);
  }
  const raw = { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1), basic: true };
  // RFC 6749 wants both parts form-encoded, but many clients send them raw: accept either.
  let creds = raw;
  try {
    const unform = (s) => decodeURIComponent(s.replace(/\+/g, " "));
    creds = { ...raw, alternative: { id: unform(raw.id), secret: unform(raw.secret), basic: true } };
  } catch {
    // Not valid form encoding: only the raw reading applies.
  }
  // A client_id beside Basic is tolerated when it names the same client.
  const formId = form.get("client_id");
  if (formId !== undefined && formId !== creds.id && formId !== creds.alternative?.id) {
    throw new OAuthError(400, "invalid_request", "client_id differs from the Basic credentials.");
  }
  return creds;
}

function bySecret(clients, creds, method) {
  const challenge = creds.basic ? BASIC_CHALLENGE : {};
  if (!creds.id || creds.secret === undefined) {
    throw invalidClient("Client authentication is required.", challenge);
  }
  for (const candidate of [creds, creds.alternative]) {
    const client = candidate && clients.get(candidate.id);
    if (client?.secret !== undefined && secretMatches(candidate.secret, client.secret)) {
      return { ...client, id: candidate.id, method };
    }
  }
  // Same answer for an unknown client, a wrong secret and a client without a secret, as Auth0.
  throw invalidClient("Unknown client or wrong client secret.", challenge);
}

// jose's local JWKS picks the key by kid and alg; without a kid several keys may fit, and
// then each is tried in turn.
async function verifyWithKeySet(jwt, keySet, options) {
  try {
    return await jwtVerify(jwt, keySet, options);
  } catch (err) {
    if (!(err instanceof errors.JWKSMultipleMatchingKeys)) {
      throw err;
    }
    for await (const key of err) {
      try {
        return await jwtVerify(jwt, key, options);
      } catch (inner) {
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) {
          throw inner;
        }
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

// jose's errors mapped to fixed descriptions: none repeats a value from the assertion.
function assertionError(err, audiences) {
  if (err instanceof errors.JWTExpired) {
    return invalidClient("The client assertion has expired.");
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === "missing") {
      return invalidClient(`The client assertion lacks the '${err.claim}' claim.`);
    }
    switch (err.claim) {
      case "iss":
      case "sub":
        return invalidClient("The client assertion's iss and sub must both be the client_id.");
      case "aud":
        return invalidClient(`The client assertion's aud must be ${audiences.join(" or ")}.`);
      case "nbf":
        return invalidClient("The client assertion is not valid yet (nbf).");
      default:
        return invalidClient("The client assertion has an invalid claim.");
    }
  }
  if (
    err instanceof errors.JWSSignatureVerificationFailed ||
    err instanceof errors.JWKSNoMatchingKey ||
    err instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return invalidClient("The client assertion's signature does not verify with a key registered for the client.");
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return invalidClient(`The client assertion's alg must be one of ${ASSERTION_ALGS.join(", ")}.`);
  }
  if (err instanceof errors.JOSEError || err instanceof TypeError) {
    return invalidClient("The client assertion is not a valid signed JWT.");
  }
  return err;
}

// The time rules jose leaves to us: exp strictly in the future (no skew), iat not ahead by
// more than the skew, and a lifetime of at most 5 minutes.
function checkLifetime(claims, now) {
  if (typeof claims.exp !== "number" || claims.exp <= now) {
    throw invalidClient("The client assertion has expired.");
  }
  if (claims.iat !== undefined) {
    if (typeof claims.iat !== "number" || claims.iat > now + CLOCK_SKEW_SECONDS) {
      throw invalidClient("The client assertion's iat is in the future.");
    }
  }
  const start = claims.iat ?? now;
  const slack = claims.iat === undefined ? CLOCK_SKEW_SECONDS : 0;
  if (claims.exp - start > MAX_ASSERTION_LIFETIME_SECONDS + slack) {
    throw invalidClient("The client assertion's lifetime (exp - iat) exceeds 300 seconds.");
  }
  if (typeof claims.jti !== "string" || claims.jti === "" || claims.jti.length > MAX_JTI_LENGTH) {
    throw invalidClient(`The client assertion's jti must be a string of 1 to ${MAX_JTI_LENGTH} characters.`);
  }
}

async function byAssertion(clients, form, context) {
  const type = form.get("client_assertion_type");
  const assertion = form.get("client_assertion");
  if (!type || !assertion) {
    throw new OAuthError(400, "invalid_request", "Send client_assertion and client_assertion_type together.");
  }
  if (type !== ASSERTION_TYPE) {
    throw new OAuthError(400, "invalid_request", `client_assertion_type must be ${ASSERTION_TYPE}.`);
  }
  let header;
  let unverified;
  try {
    header = decodeProtectedHeader(assertion);
    unverified = decodeJwt(assertion);
  } catch {
    throw invalidClient("The client assertion is not a valid signed JWT.");
  }
  if (!ASSERTION_ALGS.includes(header.alg)) {
    throw invalidClient(`The client assertion's alg must be one of ${ASSERTION_ALGS.join(", ")}.`);
  }
  // RFC 7521 §4.2: a client_id beside the assertion must name the same client.
  const formId = form.get("client_id");
  const id = formId ?? unverified.iss;
  if (formId !== undefined && unverified.iss !== formId) {
    throw invalidClient("The client assertion's iss and sub must both be the client_id.");
  }
  const client = typeof id === "string" ? clients.get(id) : undefined;
  if (client?.keySet === undefined) {
    throw invalidClient("Unknown client or no public key registered for it.");
  }

  const audiences = context.assertionAudiences;
  let claims;
  try {
    ({ payload: claims } = await verifyWithKeySet(assertion, client.keySet, {
      algorithms: ASSERTION_ALGS,
      issuer: id,
      subject: id,
      audience: audiences,
      requiredClaims: ["exp", "jti"],
      clockTolerance: CLOCK_SKEW_SECONDS,
    }));
  } catch (err) {
    throw assertionError(err, audiences);
  }
  const now = Math.floor(Date.now() / 1000);
  checkLifetime(claims, now);
  if (!context.replay.firstUse(`assertion\u0000${id}\u0000${claims.jti}`, claims.exp + CLOCK_SKEW_SECONDS)) {
    throw invalidClient("The client assertion was used before (jti).");
  }
  return { ...client, id, method: "private_key_jwt" };
}

// The authenticated client: { id, scope, method, dpopBound, ... }, or an OAuthError.
// context: { assertionAudiences: [issuer URL, token endpoint URL], replay: ReplayCache }.
export async function authenticateClient(clients, req, form, context) {
  const method = methodOf(req, form);
  if (method === "private_key_jwt") {
    return byAssertion(clients, form, context);
  }
  if (method === "client_secret_basic") {
    return bySecret(clients, basicCredentials(req, form), method);
  }
  return bySecret(clients, { id: form.get("client_id"), secret: form.get("client_secret"), basic: false }, "client_secret_post");
}
