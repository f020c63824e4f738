// An OAuth 2.0 error answer of the token endpoint (RFC 6749 §5.2, RFC 9449 §5 and §8).
// The description is fixed text chosen by the issuer: it never echoes a secret, an assertion
// or a proof from the request.
export class OAuthError extends Error {
  constructor(status, code, description, headers = {}) {
    super(description);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}
