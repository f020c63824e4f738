// Client secret rotation as Auth0 does it, so the job's handling of a rotation can be tested:
// Auth0 rotates a client secret in one step (Management API v2,
// `POST /api/v2/clients/{id}/rotate-secret`); the old secret is refused at once, and the new
// one can take up to 30 s to be accepted.
//
// Two management calls, answered on 127.0.0.1 only (not on ISSUER_EXTRA_ADDRESS) and without a
// Management API token, as befits a local stand-in:
//   POST /api/v2/clients                 body {"scope": "..."} (optional): registers a new
//       client authenticating by client_secret_post or client_secret_basic with a generated
//       secret; 201 {"client_id", "client_secret", "scope"}. A test rotates a client of its
//       own, so the stack's other clients keep their secrets.
//   POST /api/v2/clients/{client_id}/rotate-secret[?delay_seconds=N]
//       generates a new secret: the old one is refused (401 invalid_client) from now on, the
//       new one from N seconds on (default ISSUER_ROTATION_DELAY_SECONDS); 200
//       {"client_id", "client_secret", "accepted_after_seconds"}. A rotation during the delay
//       replaces the pending secret. 404 for a client without a secret.
//
// Environment:
//   ISSUER_ROTATION_DELAY_SECONDS  seconds a rotated secret is refused, default 30 (Auth0's
//                                  "up to 30 seconds"); at most 3600
//
// The new secret is in the answer, as Auth0's is; the log names the client only.
import { randomBytes } from "node:crypto";
import { OAuthError } from "./oauth_error.mjs";
import { readBody } from "./request_body.mjs";

const LOOPBACK = "127.0.0.1";
const CLIENTS_PATH = "/api/v2/clients";
const ROTATE_PATH = /^\/api\/v2\/clients\/([^/]+)\/rotate-secret$/;
const DEFAULT_DELAY_SECONDS = 30;
const MAX_DELAY_SECONDS = 3600;
const MAX_BODY_BYTES = 4 * 1024;

// Seconds in `text`, or `fallback` when absent; throws on anything but 0..3600.
function delaySeconds(text, fallback, name) {
  if (text === undefined || text === null) {
    return fallback;
  }
  const value = Number(text);
  if (text === "" || !Number.isFinite(value) || value < 0 || value > MAX_DELAY_SECONDS) {
    throw new OAuthError(400, "invalid_request", `${name} must be a number of seconds from 0 to ${MAX_DELAY_SECONDS}.`);
  }
  return value;
}

// ISSUER_ROTATION_DELAY_SECONDS, checked at start-up.
export function rotationDelaySeconds(env) {
  return delaySeconds(env.ISSUER_ROTATION_DELAY_SECONDS, DEFAULT_DELAY_SECONDS, "ISSUER_ROTATION_DELAY_SECONDS");
}

// Auth0's client secrets are 64 URL-safe characters.
function newSecret() {
  return randomBytes(48).toString("base64url");
}

async function readJson(req) {
  const text = (await readBody(req, MAX_BODY_BYTES)).toString("utf8");
  if (text.trim() === "") {
    return {};
  }
  try {
    const body = JSON.parse(text);
    if (body !== null && typeof body === "object" && !Array.isArray(body)) {
      return body;
    }
  } catch {
    // Answered below.
  }
  throw new OAuthError(400, "invalid_request", "The body must be a JSON object.");
}

export class SecretRotation {
  #clients;
  #delaySeconds;
  #send;
  // client_id → the timer that makes its pending secret the accepted one.
  #pending = new Map();

  // clients: the issuer's registered clients (client_id → {secret, scope, ...}), changed in
  // place; send(res, status, body, headers): the issuer's JSON answer.
  constructor(clients, { delaySeconds, send }) {
    this.#clients = clients;
    this.#delaySeconds = delaySeconds;
    this.#send = send;
  }

  // True when `req` is a management call, which is then answered here.
  handles(req, res, url) {
    const rotate = ROTATE_PATH.exec(url.pathname);
    if (url.pathname !== CLIENTS_PATH && rotate === null) {
      return false;
    }
    this.#answer(req, res, url, rotate).catch((err) => {
      const known = err instanceof OAuthError;
      if (!known) {
        console.error(`management call failed: ${err?.name ?? "Error"}`);
      }
      this.#send(
        res,
        known ? err.status : 500,
        { error: known ? err.code : "server_error", error_description: known ? err.message : "Internal error." },
        known ? err.headers : {},
      );
    });
    return true;
  }

  async #answer(req, res, url, rotate) {
    if (req.method !== "POST") {
      throw new OAuthError(405, "invalid_request", "Use POST.", { Allow: "POST" });
    }
    if (req.socket.localAddress !== LOOPBACK) {
      throw new OAuthError(403, "access_denied", `Management calls are answered on ${LOOPBACK} only.`);
    }
    if (rotate !== null) {
      const delay = delaySeconds(url.searchParams.get("delay_seconds"), this.#delaySeconds, "delay_seconds");
      this.#send(res, 200, this.#rotate(decodeURIComponent(rotate[1]), delay));
      return;
    }
    const { scope = "" } = await readJson(req);
    if (typeof scope !== "string") {
      throw new OAuthError(400, "invalid_request", "scope must be a string.");
    }
    this.#send(res, 201, this.#create(scope));
  }

  #create(scope) {
    const clientId = randomBytes(16).toString("hex");
    const secret = newSecret();
    this.#clients.set(clientId, { secret, keySet: undefined, scope, dpopBound: false });
    console.log(`client registered client_id=${clientId} scope="${scope}"`);
    return { client_id: clientId, client_secret: secret, scope };
  }

  #rotate(clientId, delay) {
    const client = this.#clients.get(clientId);
    if (client === undefined || (client.secret === undefined && !this.#pending.has(clientId))) {
      throw new OAuthError(404, "invalid_request", "No client with a client secret has this id.");
    }
    const secret = newSecret();
    // Refused from now on: neither the old secret nor, until the delay ends, the new one.
    client.secret = undefined;
    clearTimeout(this.#pending.get(clientId));
    const accept = () => {
      client.secret = secret;
      this.#pending.delete(clientId);
      console.log(`client secret accepted client_id=${clientId}`);
    };
    const timer = setTimeout(accept, delay * 1000);
    // A pending rotation must not keep the issuer from stopping.
    timer.unref();
    this.#pending.set(clientId, timer);
    console.log(`client secret rotated client_id=${clientId} accepted_after_seconds=${delay}`);
    return { client_id: clientId, client_secret: secret, accepted_after_seconds: delay };
  }
}
