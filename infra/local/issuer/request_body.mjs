// A request's body, read whole up to a bound: the token endpoint's form and the management
// calls' JSON are small, and a stand-in must not buffer whatever a test throws at it.
import { OAuthError } from "./oauth_error.mjs";

// The body of `req` as one Buffer; 400 invalid_request once it passes maxBytes.
export async function readBody(req, maxBytes) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > maxBytes) {
      throw new OAuthError(400, "invalid_request", "Request body too large.");
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
