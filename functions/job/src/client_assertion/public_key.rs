//! The KMS key's public half as the issuer sees it: the RFC 7638 JWK thumbprint that names the
//! registered credential (`kid`), and ECDSA signatures in the JWS form.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
    EllipticCurveKeyType, Jwk, RSAKeyParameters, RSAKeyType, ThumbprintHash,
};

use super::AssertionAlgorithm;

/// DER SubjectPublicKeyInfo of a P-256 key up to its point (RFC 5480 §2: id-ecPublicKey,
/// secp256r1, a 66-byte BIT STRING), which `kms:GetPublicKey` returns for ECC_NIST_P256.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// The RFC 7638 §3 thumbprint (SHA-256, base64url) of the DER SubjectPublicKeyInfo `spki`, for
/// a key that signs `alg`; `None` when `spki` is not a key of that kind.
pub fn thumbprint(spki: &[u8], alg: AssertionAlgorithm) -> Option<String> {
    let public = match alg {
        AssertionAlgorithm::RS256 | AssertionAlgorithm::PS256 => {
            let key = aws_lc_rs::rsa::PublicKey::from_der(spki).ok()?;
            rsa_jwk(
                key.modulus().big_endian_without_leading_zero(),
                key.exponent().big_endian_without_leading_zero(),
            )
        }
        AssertionAlgorithm::ES256 => match spki.strip_prefix(&P256_SPKI_PREFIX)? {
            [0x04, xy @ ..] if xy.len() == 64 => {
                AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                    key_type: EllipticCurveKeyType::EC,
                    curve: EllipticCurve::P256,
                    x: b64(&xy[..32]),
                    y: b64(&xy[32..]),
                })
            }
            _ => return None,
        },
    };
    let jwk = Jwk {
        common: CommonParameters::default(),
        algorithm: public,
    };
    jwk.thumbprint(ThumbprintHash::SHA256).ok()
}

/// The public parameters of an RSA key from its big-endian `n` and `e`.
fn rsa_jwk(n: &[u8], e: &[u8]) -> AlgorithmParameters {
    AlgorithmParameters::RSA(RSAKeyParameters {
        key_type: RSAKeyType::RSA,
        n: b64(n),
        e: b64(e),
    })
}

/// The JWS form `r || s`, 32 bytes each (RFC 7518 §3.4), of the DER `ECDSA-Sig-Value`
/// (RFC 3279 §2.2.3) that `kms:Sign` returns; `None` when `der` is not one for P-256.
pub fn fixed_ecdsa_signature(der: &[u8]) -> Option<[u8; 64]> {
    let body = der_element(der, 0x30)?;
    let (r, rest) = der_integer(body)?;
    let (s, rest) = der_integer(rest)?;
    if !rest.is_empty() {
        return None;
    }
    let mut fixed = [0; 64];
    fixed[32 - r.len()..32].copy_from_slice(r);
    fixed[64 - s.len()..].copy_from_slice(s);
    Some(fixed)
}

/// The whole of `input` as one DER element of `tag` with a short-form length; its contents.
fn der_element(input: &[u8], tag: u8) -> Option<&[u8]> {
    let (contents, rest) = der_split(input, tag)?;
    rest.is_empty().then_some(contents)
}

/// The first DER element of `input`, which must have `tag` and a short-form length (every
/// element of a P-256 signature is under 128 bytes): its contents and what follows.
fn der_split(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    match input {
        [found, length, rest @ ..] if *found == tag && *length < 0x80 => {
            let length = usize::from(*length);
            (rest.len() >= length).then(|| rest.split_at(length))
        }
        _ => None,
    }
}

/// A positive DER INTEGER of at most 32 bytes once its sign byte is dropped, and the rest.
fn der_integer(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let (value, rest) = der_split(input, 0x02)?;
    let value = match value {
        [0x00, next, ..] if *next >= 0x80 => &value[1..],
        [first, ..] if *first < 0x80 => value,
        _ => return None,
    };
    (value.len() <= 32).then_some((value, rest))
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7638 §3.1: the example RSA key and its thumbprint.
    #[test]
    fn the_rfc_7638_example_key_has_the_rfc_thumbprint() {
        let n = URL_SAFE_NO_PAD
            .decode(concat!(
                "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP",
                "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY",
                "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f",
                "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
            ))
            .unwrap();
        let jwk = Jwk {
            common: CommonParameters::default(),
            algorithm: rsa_jwk(&n, &[1, 0, 1]),
        };
        assert_eq!(
            jwk.thumbprint(ThumbprintHash::SHA256).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn a_spki_of_another_kind_has_no_thumbprint() {
        assert_eq!(thumbprint(&[0x30, 0x00], AssertionAlgorithm::RS256), None);
        let mut p256 = P256_SPKI_PREFIX.to_vec();
        p256.extend([0x04; 65]);
        assert!(thumbprint(&p256, AssertionAlgorithm::ES256).is_some());
        assert_eq!(thumbprint(&p256, AssertionAlgorithm::PS256), None);
        p256.pop();
        assert_eq!(thumbprint(&p256, AssertionAlgorithm::ES256), None);
    }

    #[test]
    fn der_signatures_become_r_and_s_of_32_bytes_each() {
        // r with a sign byte (33 bytes), s short (31 bytes): both padded to 32.
        let mut der = vec![0x30, 0x00, 0x02, 33, 0x00];
        der.extend([0x80; 32]);
        der.extend([0x02, 31]);
        der.extend([0x11; 31]);
        der[1] = (der.len() - 2) as u8;
        let fixed = fixed_ecdsa_signature(&der).unwrap();
        assert_eq!(&fixed[..32], &[0x80; 32]);
        assert_eq!(fixed[32], 0);
        assert_eq!(&fixed[33..], &[0x11; 31]);
    }

    #[test]
    fn malformed_der_signatures_are_refused() {
        for bad in [
            &[][..],
            &[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01][..],
            &[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00][..],
            &[0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01][..],
            &[0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01][..],
        ] {
            assert_eq!(fixed_ecdsa_signature(bad), None, "{bad:02x?}");
        }
        let mut long = vec![0x30, 37, 0x02, 33, 0x01];
        long.extend([0x01; 32]);
        long.extend([0x02, 0x01, 0x01]);
        assert_eq!(fixed_ecdsa_signature(&long), None);
    }
}
