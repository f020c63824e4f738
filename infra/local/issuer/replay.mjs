// One-time use of `jti` values (client assertions: RFC 7523 §3 item 7; DPoP proofs: RFC 9449
// §11.1): each is remembered until the JWT carrying it could no longer be accepted anyway.
const MAX_ENTRIES = 100_000;

export class ReplayCache {
  #expiries = new Map();

  // True the first time `key` is offered while remembered; false for a replay.
  // expiresAt: epoch seconds after which the key may be forgotten.
  firstUse(key, expiresAt, now = Date.now() / 1000) {
    const known = this.#expiries.get(key);
    if (known !== undefined && known > now) {
      return false;
    }
    if (this.#expiries.size >= MAX_ENTRIES) {
      this.#forgetExpired(now);
    }
    if (this.#expiries.size >= MAX_ENTRIES) {
      // Still full of live entries: refusing is safer than forgetting one.
      return false;
    }
    this.#expiries.set(key, expiresAt);
    return true;
  }

  #forgetExpired(now) {
    for (const [key, expiresAt] of this.#expiries) {
      if (expiresAt <= now) {
        this.#expiries.delete(key);
      }
    }
  }
}
