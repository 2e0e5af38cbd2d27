//! Certificate authorities of a test's own, for the TLS tests: a CA that is not the stack's, and
//! server certificates it signs (used by the store's tests and, through `#[path]`, the ingest
//! crate's Kafka tests).
#![allow(dead_code)] // Each including test uses a different part.

use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectAlternativeName};
use openssl::x509::{X509NameBuilder, X509};

/// A certificate authority of the test's own: a key and its self-signed certificate.
pub struct TestCa {
    key: PKey<Private>,
    certificate: X509,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let key = new_key();
        let mut builder = certificate_builder(name, &key);
        builder.set_issuer_name(&subject(name)).unwrap();
        builder
            .append_extension(BasicConstraints::new().critical().ca().build().unwrap())
            .unwrap();
        builder
            .append_extension(KeyUsage::new().critical().key_cert_sign().build().unwrap())
            .unwrap();
        builder.sign(&key, MessageDigest::sha256()).unwrap();
        TestCa {
            key,
            certificate: builder.build(),
        }
    }

    /// The CA certificate, PEM (a `--kafka-ca-file`, an `MHFZ_PG_CA_FILE`).
    pub fn pem(&self) -> Vec<u8> {
        self.certificate.to_pem().unwrap()
    }

    /// A server certificate for `subject_alt_name` (`IP:127.0.0.1`, `DNS:name`) signed by this
    /// CA, and its key.
    pub fn issue(&self, subject_alt_name: &str) -> (X509, PKey<Private>) {
        let key = new_key();
        let mut builder = certificate_builder("broker", &key);
        builder
            .set_issuer_name(self.certificate.subject_name())
            .unwrap();
        let (kind, value) = subject_alt_name.split_once(':').unwrap();
        let mut names = SubjectAlternativeName::new();
        match kind {
            "IP" => names.ip(value),
            _ => names.dns(value),
        };
        let names = names
            .build(&builder.x509v3_context(Some(&self.certificate), None))
            .unwrap();
        builder.append_extension(names).unwrap();
        builder.sign(&self.key, MessageDigest::sha256()).unwrap();
        (builder.build(), key)
    }
}

fn new_key() -> PKey<Private> {
    let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(openssl::ec::EcKey::generate(&group).unwrap()).unwrap()
}

fn subject(common_name: &str) -> openssl::x509::X509Name {
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", common_name).unwrap();
    name.build()
}

/// A certificate for `common_name`'s `key`, valid for a day from now, not yet signed.
fn certificate_builder(common_name: &str, key: &PKey<Private>) -> openssl::x509::X509Builder {
    let mut builder = X509::builder().unwrap();
    builder.set_version(2).unwrap();
    let serial = BigNum::from_u32(random_serial())
        .unwrap()
        .to_asn1_integer()
        .unwrap();
    builder.set_serial_number(&serial).unwrap();
    builder.set_subject_name(&subject(common_name)).unwrap();
    builder.set_pubkey(key).unwrap();
    builder
        .set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    builder
        .set_not_after(&Asn1Time::days_from_now(1).unwrap())
        .unwrap();
    builder
}

/// Certificates of one issuer need distinct serial numbers.
fn random_serial() -> u32 {
    let mut bytes = [0; 4];
    openssl::rand::rand_bytes(&mut bytes).unwrap();
    u32::from_be_bytes(bytes) >> 1
}
