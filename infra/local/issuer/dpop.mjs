// DPoP proofs at the token endpoint (RFC 9449 §4.3) and server-provided nonces (§8).
import { randomBytes } from "node:crypto";
import { EmbeddedJWK, calculateJwkThumbprint, decodeProtectedHeader, errors, jwtVerify } from "jose";
import { OAuthError } from "./oauth_error.mjs";

export const DPOP_ALGS = ["ES256", "PS256", "RS256"];
// A proof's iat may be this old, or this far ahead of the issuer's clock (RFC 9449 §11.1
// leaves the window to the server).
export const PROOF_MAX_AGE_SECONDS = 300;
export const PROOF_MAX_AHEAD_SECONDS = 10;
const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

function invalidProof(description) {
  return new OAuthError(400, "invalid_dpop_proof", description);
}

// Scheme, host, port and path, without query and fragment (RFC 9449 §4.3 item 9), after
// the syntax-based normalisation of RFC 3986 §6.2.2 and §6.2.3 that URL parsing does.
function htuKey(value) {
  try {
    const url = new URL(value);
    return `${url.origin}${url.pathname}`;
  } catch {
    return undefined;
  }
}

// Nonces the issuer hands out in DPoP-Nonce; each is accepted until it expires. The current
// one is reused until half its life is over, so clients see few changes.
class Nonces {
  #expiries = new Map();
  #current;

  constructor(ttlSeconds) {
    this.ttl = ttlSeconds;
  }

  current(now = Date.now() / 1000) {
    for (const [nonce, expiresAt] of this.#expiries) {
      if (expiresAt <= now) this.#expiries.delete(nonce);
    }
    const expiresAt = this.#expiries.get(this.#current);
    if (expiresAt === undefined || expiresAt - now < this.ttl / 2) {
      this.#current = randomBytes(16).toString("base64url");
      this.#expiries.set(this.#current, now + this.ttl);
    }
    return this.#current;
  }

  accepts(nonce, now = Date.now() / 1000) {
    const expiresAt = typeof nonce === "string" ? this.#expiries.get(nonce) : undefined;
    return expiresAt !== undefined && expiresAt > now;
  }
}

export class DpopVerifier {
  // nonceTtlSeconds: null for no nonce, else the lifetime of each nonce handed out.
  constructor({ nonceTtlSeconds, replay }) {
    this.nonces = nonceTtlSeconds === null ? null : new Nonces(nonceTtlSeconds);
    this.replay = replay;
  }

  // Headers for a successful answer: a fresh nonce for the next request (RFC 9449 §8.2).
  answerHeaders() {
    return this.nonces ? { "DPoP-Nonce": this.nonces.current() } : {};
  }

  // The proof of this request: null without a DPoP header, else { jkt } (RFC 7638 SHA-256
  // thumbprint of the proof's key) or an OAuthError invalid_dpop_proof / use_dpop_nonce.
  // htu: the URL this request was sent to.
  async verify(req, htu) {
    const values = req.headersDistinct.dpop;
    if (values === undefined) {
      return null;
    }
    if (values.length !== 1) {
      throw invalidProof("Send exactly one DPoP header.");
    }
    const proof = values[0];
    let header;
    try {
      header = decodeProtectedHeader(proof);
    } catch {
      throw invalidProof("The DPoP proof is not a valid signed JWT.");
    }
    if (header.typ !== "dpop+jwt") {
      throw invalidProof("The DPoP proof's typ must be dpop+jwt.");
    }
    if (!DPOP_ALGS.includes(header.alg)) {
      throw invalidProof(`The DPoP proof's alg must be one of ${DPOP_ALGS.join(", ")}.`);
    }
    if (header.jwk === null || typeof header.jwk !== "object" || PRIVATE_JWK_MEMBERS.some((m) => m in header.jwk)) {
      throw invalidProof("The DPoP proof's jwk header must be a public key.");
    }
    let claims;
    try {
      ({ payload: claims } = await jwtVerify(proof, EmbeddedJWK, {
        algorithms: DPOP_ALGS,
        typ: "dpop+jwt",
        requiredClaims: ["jti", "htm", "htu", "iat"],
      }));
    } catch (err) {
      if (err instanceof errors.JWTClaimValidationFailed && err.reason === "missing") {
        throw invalidProof(`The DPoP proof lacks the '${err.claim}' claim.`);
      }
      if (err instanceof errors.JOSEError || err instanceof TypeError) {
        throw invalidProof("The DPoP proof's signature does not verify with its jwk.");
      }
      throw err;
    }
    if (claims.htm !== req.method) {
      throw invalidProof(`The DPoP proof's htm must be ${req.method}.`);
    }
    if (typeof claims.htu !== "string" || htuKey(claims.htu) !== htuKey(htu)) {
      throw invalidProof(`The DPoP proof's htu must be ${htu}.`);
    }
    const now = Date.now() / 1000;
    if (typeof claims.iat !== "number" || claims.iat < now - PROOF_MAX_AGE_SECONDS) {
      throw invalidProof("The DPoP proof is too old (iat).");
    }
    if (claims.iat > now + PROOF_MAX_AHEAD_SECONDS) {
      throw invalidProof("The DPoP proof's iat is in the future.");
    }
    if (typeof claims.jti !== "string" || claims.jti === "") {
      throw invalidProof("The DPoP proof's jti must be a non-empty string.");
    }
    if (this.nonces && !this.nonces.accepts(claims.nonce)) {
      throw new OAuthError(400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.", {
        "DPoP-Nonce": this.nonces.current(),
      });
    }
    const expiresAt = claims.iat + PROOF_MAX_AGE_SECONDS + PROOF_MAX_AHEAD_SECONDS;
    if (!this.replay.firstUse(`dpop\u0000${claims.jti}`, expiresAt)) {
      throw invalidProof("The DPoP proof was used before (jti).");
    }
    return { jkt: await calculateJwkThumbprint(header.jwk, "sha256") };
  }
}
