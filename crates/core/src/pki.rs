//! X.509 for load balancer certificates: reading what users upload (a PEM chain and the
//! leaf's private key) and issuing managed certificates from a local CA.
//!
//! Private keys are read with the RustCrypto key types (RSA in PKCS#1 or PKCS#8, ECDSA
//! P-256/P-384 in SEC1 or PKCS#8, Ed25519 in PKCS#8), whose public key is then compared
//! with the certificate's. Issuing signs with `rcgen`.

use chrono::{DateTime, Utc};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use sha2::{Digest, Sha256};
use x509_parser::extensions::GeneralName;
use x509_parser::pem::Pem;

/// What Stratus keeps of a certificate chain, read from its leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChainInfo {
    /// DNS names of the subject alternative names, else the common name.
    pub domain_names: Vec<String>,
    /// SHA-256 of the leaf's DER, colon-separated lower-case hex.
    pub fingerprint: String,
    pub not_valid_before: DateTime<Utc>,
    pub not_valid_after: DateTime<Utc>,
}

/// Why a chain or key was refused; the message names what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PemError {
    Certificate(String),
    PrivateKey(String),
}

/// Reads an uploaded certificate chain (leaf first, each certified by the next) and
/// checks that `key_pem` is the leaf's private key.
pub(crate) fn read_uploaded(chain_pem: &str, key_pem: &str) -> Result<ChainInfo, PemError> {
    let blocks = pem_blocks(chain_pem).map_err(PemError::Certificate)?;
    let certs: Vec<&Pem> = blocks.iter().filter(|b| b.label == "CERTIFICATE").collect();
    if certs.is_empty() || certs.len() != blocks.len() {
        return Err(PemError::Certificate("must be one or more PEM blocks of type CERTIFICATE".into()));
    }
    let parsed = certs
        .iter()
        .enumerate()
        .map(|(i, pem)| pem.parse_x509().map_err(|e| PemError::Certificate(format!("certificate {}: {e}", i + 1))))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, pair) in parsed.windows(2).enumerate() {
        if pair[0].issuer() != pair[1].subject() {
            return Err(PemError::Certificate(format!(
                "certificate {} is not issued by certificate {}: the chain must be in order, leaf first",
                i + 1,
                i + 2
            )));
        }
    }
    let leaf = &parsed[0];
    let key = PrivateKey::from_pem(key_pem).map_err(PemError::PrivateKey)?;
    if !key.matches(leaf.public_key().raw) {
        return Err(PemError::PrivateKey("does not belong to the certificate".into()));
    }
    info_of(leaf, &certs[0].contents).map_err(PemError::Certificate)
}

/// Checks a local CA: its certificate, and a key rcgen can sign with that belongs to it.
pub(crate) fn check_ca(certificate_pem: &str, key_pem: &str) -> Result<(), String> {
    let blocks = pem_blocks(certificate_pem)?;
    let pem =
        blocks.first().filter(|b| b.label == "CERTIFICATE").ok_or("the CA certificate is not a PEM CERTIFICATE")?;
    let cert = pem.parse_x509().map_err(|e| format!("the CA certificate cannot be read: {e}"))?;
    if !cert.is_ca() {
        return Err("the CA certificate is not a CA (basicConstraints CA:TRUE)".into());
    }
    rcgen::KeyPair::from_pem(key_pem).map_err(|e| format!("the CA key cannot be used for signing: {e}"))?;
    let key = PrivateKey::from_pem(key_pem).map_err(|e| format!("the CA key: {e}"))?;
    if !key.matches(cert.public_key().raw) {
        return Err("the CA key does not belong to the CA certificate".into());
    }
    Ok(())
}

/// A certificate for `domains` signed by the CA, valid for 90 days from `now` (as Let's
/// Encrypt's are), with a new ECDSA P-256 key: its chain (leaf, then the CA) and key, as
/// PEM, and what is read from it.
pub(crate) fn issue(
    ca: &crate::config::LocalCa,
    domains: &[String],
    now: DateTime<Utc>,
) -> Result<(String, String, ChainInfo), String> {
    let ca_key = rcgen::KeyPair::from_pem(ca.key_pem()).map_err(|e| format!("the CA key: {e}"))?;
    let issuer = rcgen::Issuer::from_ca_cert_pem(ca.certificate_pem(), ca_key)
        .map_err(|e| format!("the CA certificate: {e}"))?;
    let mut params = rcgen::CertificateParams::new(domains.to_vec()).map_err(|e| format!("domain names: {e}"))?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    if let Some(first) = domains.first() {
        params.distinguished_name.push(rcgen::DnType::CommonName, first.as_str());
    }
    let mut serial = rand::random::<[u8; 16]>();
    // Serial numbers are positive integers: the top bit stays clear.
    serial[0] &= 0x7f;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    // rcgen's time type, from a `chrono` instant: the epoch plus the seconds since, so no
    // second date-time crate is needed here.
    let at = |t: DateTime<Utc>| {
        rcgen::date_time_ymd(1970, 1, 1) + std::time::Duration::from_secs(u64::try_from(t.timestamp()).unwrap_or(0))
    };
    params.not_before = at(now);
    params.not_after = at(now + chrono::Duration::days(90));
    params.use_authority_key_identifier_extension = true;
    let key = rcgen::KeyPair::generate().map_err(|e| format!("key generation: {e}"))?;
    let cert = params.signed_by(&key, &issuer).map_err(|e| format!("signing: {e}"))?;
    let chain = format!("{}{}", cert.pem(), ca.certificate_pem().trim_start());
    let private_key = key.serialize_pem();
    let info = read_uploaded(&chain, &private_key).map_err(|e| match e {
        PemError::Certificate(m) | PemError::PrivateKey(m) => format!("the issued certificate: {m}"),
    })?;
    Ok((chain, private_key, info))
}

fn pem_blocks(text: &str) -> Result<Vec<Pem>, String> {
    let blocks = Pem::iter_from_buffer(text.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("is not valid PEM: {e}"))?;
    if blocks.is_empty() {
        return Err("is not PEM: no -----BEGIN ...----- block".into());
    }
    Ok(blocks)
}

fn info_of(cert: &x509_parser::certificate::X509Certificate<'_>, der: &[u8]) -> Result<ChainInfo, String> {
    let mut domain_names: Vec<String> = match cert.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                GeneralName::DNSName(d) => Some(d.to_string()),
                _ => None,
            })
            .collect(),
        Ok(None) => Vec::new(),
        Err(e) => return Err(format!("its subject alternative names cannot be read: {e}")),
    };
    if domain_names.is_empty() {
        domain_names =
            cert.subject().iter_common_name().filter_map(|cn| cn.as_str().ok()).map(str::to_string).collect();
    }
    let time = |t: &x509_parser::time::ASN1Time| {
        DateTime::from_timestamp(t.timestamp(), 0).ok_or_else(|| "its validity is out of range".to_string())
    };
    let validity = cert.validity();
    let digest = Sha256::digest(der);
    Ok(ChainInfo {
        domain_names,
        fingerprint: digest.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"),
        not_valid_before: time(&validity.not_before)?,
        not_valid_after: time(&validity.not_after)?,
    })
}

/// A private key of a kind load balancers terminate TLS with.
enum PrivateKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    P256(p256::SecretKey),
    P384(p384::SecretKey),
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

impl PrivateKey {
    fn from_pem(text: &str) -> Result<PrivateKey, String> {
        let blocks = pem_blocks(text)?;
        let [block] = blocks.as_slice() else { return Err("must be exactly one PEM block".into()) };
        let der = block.contents.as_slice();
        let key = match block.label.as_str() {
            "RSA PRIVATE KEY" => rsa::RsaPrivateKey::from_pkcs1_der(der).ok().map(|k| PrivateKey::Rsa(Box::new(k))),
            "EC PRIVATE KEY" => p256::SecretKey::from_sec1_der(der)
                .map(PrivateKey::P256)
                .or_else(|_| p384::SecretKey::from_sec1_der(der).map(PrivateKey::P384))
                .ok(),
            "PRIVATE KEY" => rsa::RsaPrivateKey::from_pkcs8_der(der)
                .map(|k| PrivateKey::Rsa(Box::new(k)))
                .or_else(|_| p256::SecretKey::from_pkcs8_der(der).map(PrivateKey::P256))
                .or_else(|_| p384::SecretKey::from_pkcs8_der(der).map(PrivateKey::P384))
                .or_else(|_| ed25519_dalek::SigningKey::from_pkcs8_der(der).map(|k| PrivateKey::Ed25519(Box::new(k))))
                .ok(),
            "ENCRYPTED PRIVATE KEY" => return Err("must not be encrypted".into()),
            other => return Err(format!("a PEM block of type {other} is not a private key")),
        };
        key.ok_or_else(|| "is not an RSA, ECDSA (P-256, P-384) or Ed25519 private key".into())
    }

    /// Whether `spki` (a certificate's DER SubjectPublicKeyInfo) is this key's public key.
    fn matches(&self, spki: &[u8]) -> bool {
        match self {
            PrivateKey::Rsa(k) => rsa::RsaPublicKey::from_public_key_der(spki).is_ok_and(|p| p == k.to_public_key()),
            PrivateKey::P256(k) => p256::PublicKey::from_public_key_der(spki).is_ok_and(|p| p == k.public_key()),
            PrivateKey::P384(k) => p384::PublicKey::from_public_key_der(spki).is_ok_and(|p| p == k.public_key()),
            PrivateKey::Ed25519(k) => {
                ed25519_dalek::VerifyingKey::from_public_key_der(spki).is_ok_and(|p| p == k.verifying_key())
            }
        }
    }
}

/// A throwaway CA, for tests that issue managed certificates.
#[cfg(test)]
pub(crate) fn test_ca() -> crate::config::LocalCa {
    let key = rcgen::KeyPair::generate().expect("a key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.distinguished_name.push(rcgen::DnType::CommonName, "Stratus test CA");
    let cert = params.self_signed(&key).expect("self-signed");
    crate::config::LocalCa::new(cert.pem(), key.serialize_pem()).expect("a valid CA")
}

/// A self-signed certificate for `names` (the first is its common name) and its key, as
/// PEM, for tests that upload certificates.
#[cfg(test)]
pub(crate) fn test_certificate(names: &[&str]) -> (String, String) {
    let key = rcgen::KeyPair::generate().expect("a key");
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, names[0]);
    (params.self_signed(&key).expect("self-signed").pem(), key.serialize_pem())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uploaded_certificate_gives_its_names_fingerprint_and_validity() {
        let (cert, key) = test_certificate(&["example.com", "www.example.com"]);
        let info = read_uploaded(&cert, &key).unwrap();
        assert_eq!(info.domain_names, ["example.com", "www.example.com"]);
        assert_eq!(info.fingerprint.len(), 32 * 3 - 1);
        assert!(info.fingerprint.split(':').all(|b| b.len() == 2 && b == b.to_lowercase()));
        assert!(info.not_valid_before < info.not_valid_after);
    }

    #[test]
    fn rsa_pkcs1_and_sec1_keys_are_read() {
        let rsa = read_uploaded(include_str!("../testdata/pki/rsa.crt"), include_str!("../testdata/pki/rsa-pkcs1.key"));
        assert_eq!(rsa.unwrap().domain_names, ["rsa.example"]);
        let ec =
            read_uploaded(include_str!("../testdata/pki/ec.crt"), include_str!("../testdata/pki/ec-p384-sec1.key"));
        assert_eq!(ec.unwrap().domain_names, ["ec.example"], "no SAN: the common name");
        let crossed =
            read_uploaded(include_str!("../testdata/pki/rsa.crt"), include_str!("../testdata/pki/ec-p384-sec1.key"));
        assert!(matches!(crossed, Err(PemError::PrivateKey(_))));
    }

    #[test]
    fn bad_chains_and_keys_are_refused() {
        let (cert, key) = test_certificate(&["a.example"]);
        let (other_cert, other_key) = test_certificate(&["b.example"]);
        let cases = [
            ("garbage", "not pem".to_string(), key.clone(), "certificate"),
            ("a key as certificate", key.clone(), key.clone(), "certificate"),
            ("broken base64", cert.replace("MII", "!!"), key.clone(), "certificate"),
            ("out of order", format!("{cert}{other_cert}"), key.clone(), "certificate"),
            ("someone else's key", cert.clone(), other_key, "private_key"),
            ("a certificate as key", cert.clone(), other_cert.clone(), "private_key"),
            ("no key", cert.clone(), String::new(), "private_key"),
        ];
        for (what, chain, key, field) in cases {
            let got = match read_uploaded(&chain, &key) {
                Err(PemError::Certificate(_)) => "certificate",
                Err(PemError::PrivateKey(_)) => "private_key",
                Ok(_) => "accepted",
            };
            assert_eq!(got, field, "{what}");
        }
    }

    #[test]
    fn a_local_ca_issues_a_chain_that_reads_back() {
        let ca = test_ca();
        let domains = vec!["shop.example.com".to_string(), "*.shop.example.com".to_string()];
        let now = crate::model::now();
        let (chain, key, info) = issue(&ca, &domains, now).unwrap();
        assert_eq!(info.domain_names, domains);
        assert_eq!(info.not_valid_before, now);
        assert_eq!(info.not_valid_after, now + chrono::Duration::days(90));
        assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2, "leaf and CA");
        assert_eq!(read_uploaded(&chain, &key).unwrap(), info);
    }

    #[test]
    fn a_ca_must_be_a_ca_with_its_own_key() {
        let (leaf, leaf_key) = test_certificate(&["x.example"]);
        assert!(check_ca(&leaf, &leaf_key).unwrap_err().contains("not a CA"));
        let ca = test_ca();
        let other = rcgen::KeyPair::generate().unwrap();
        assert!(check_ca(ca.certificate_pem(), &other.serialize_pem()).unwrap_err().contains("does not belong"));
        assert!(check_ca("nope", ca.key_pem()).is_err());
    }
}
