// Standards mode of the local issuer: for the clients named in ISSUER_RFC8707_CLIENTS
// (comma-separated client ids), the token request is read the way an authorization server
// that follows RFC 8707 and RFC 6749 reads it, rather than the way Auth0 does:
//
//   audience  Auth0's parameter, unknown here and ignored (RFC 6749 §3.2).
//   resource  the API the token is for (RFC 8707 §2): an absolute URI without a fragment,
//             else 400 invalid_target; it becomes the token's `aud`. One per request: the
//             token endpoint refuses repeated parameters.
//             Without it the token names no API: an opaque random string, what node
//             oidc-provider (resource indicators on) hands out when no resource is named.
//   scope     the requested scopes the client is allowed (RFC 6749 §3.3), none when the
//             request names none; when none of those asked for is allowed, 400 invalid_scope.
import { randomBytes } from "node:crypto";
import { OAuthError } from "./oauth_error.mjs";

// RFC 8707 §2: an absolute URI (RFC 3986 §4.3), no fragment.
function readResource(value) {
  // URL parses absolute URIs only: a relative reference throws.
  let absolute = true;
  try {
    new URL(value);
  } catch {
    absolute = false;
  }
  if (!absolute || value.includes("#")) {
    throw new OAuthError(400, "invalid_target", "The resource must be an absolute URI without a fragment.");
  }
  return value;
}

// The requested scopes the client holds, in the order asked, each once.
function grantedScope(client, requested) {
  if (requested === undefined) {
    return "";
  }
  const held = client.scope.split(" ").filter(Boolean);
  const asked = requested.split(" ").filter(Boolean);
  const granted = [...new Set(asked.filter((s) => held.includes(s)))];
  if (asked.length > 0 && granted.length === 0) {
    throw new OAuthError(400, "invalid_scope", "None of the requested scopes is granted to this client.");
  }
  return granted.join(" ");
}

export class ResourceIndicators {
  // The client ids of ISSUER_RFC8707_CLIENTS in `env`.
  static fromEnv(env) {
    const ids = (env.ISSUER_RFC8707_CLIENTS ?? "").split(",").map((id) => id.trim()).filter(Boolean);
    return new ResourceIndicators(new Set(ids));
  }

  constructor(clientIds) {
    this.clientIds = clientIds;
  }

  // Whether `clientId`'s requests are read in standards mode.
  serves(clientId) {
    return this.clientIds.has(clientId);
  }

  // What the token endpoint grants `client` for `form` (a Map): { audience, scope, opaque },
  // where `opaque` is the access token itself when no resource was named, else undefined.
  grant(client, form) {
    const scope = grantedScope(client, form.get("scope"));
    const resource = form.get("resource");
    if (resource === undefined) {
      return { audience: undefined, scope, opaque: randomBytes(32).toString("base64url") };
    }
    return { audience: readResource(resource), scope, opaque: undefined };
  }
}
