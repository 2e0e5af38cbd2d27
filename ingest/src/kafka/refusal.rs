//! A login or a broker certificate the cluster refuses, caught at once rather than retried
//! until the clients' timeouts: [`KafkaRefusal`] says which and why,
//! [`KafkaClientSettings::check_access`] probes for one before a program starts its work and
//! [`RefusalWatch`] spots one among a running client's error events.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientContext;

use super::client::{ClientRole, KafkaClientSettings};

/// The brokers and a client could not agree to talk. Retrying cannot cure either, yet
/// librdkafka does, until the clients' timeouts: the programs stop at the first instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KafkaRefusal {
    #[error(
        "Kafka at {brokers}: authentication failed for user {user:?}: the broker refused its \
         credentials (SASL/SCRAM-SHA-512; check --kafka-user and --kafka-password-file): {reason}"
    )]
    Authentication {
        brokers: String,
        user: String,
        reason: String,
    },
    #[error(
        "Kafka at {brokers}: the TLS handshake failed: the broker's certificate is not signed by \
         the CA in {ca_file}, or does not name the broker's host (check --kafka-ca-file and the \
         broker addresses): {reason}"
    )]
    Certificate {
        brokers: String,
        ca_file: PathBuf,
        reason: String,
    },
}

/// The kinds of [`KafkaRefusal`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refused {
    Credentials,
    Certificate,
}

/// Which refusal librdkafka's `code` and `reason` report, if any.
fn refused(code: RDKafkaErrorCode, reason: &str) -> Option<Refused> {
    match code {
        RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SaslAuthenticationFailed => {
            Some(Refused::Credentials)
        }
        RDKafkaErrorCode::SSL => Some(Refused::Certificate),
        // A certificate that OpenSSL rejects already in the handshake's first step (a broker
        // that answers at once, on loopback) librdkafka reports as a transport failure:
        // OpenSSL's words are then the only sign of it.
        RDKafkaErrorCode::BrokerTransportFailure
            if reason.contains("certificate verify failed") =>
        {
            Some(Refused::Certificate)
        }
        _ => None,
    }
}

/// How long the access check waits at a time, between looking at what the probe was told.
const PROBE_SLICE: Duration = Duration::from_millis(100);

impl KafkaClientSettings {
    /// The refusal `code` and librdkafka's `reason` report, if they report one.
    pub fn refusal(&self, code: RDKafkaErrorCode, reason: &str) -> Option<KafkaRefusal> {
        let brokers = self.brokers.clone();
        let reason = reason.to_string();
        Some(match refused(code, &reason)? {
            Refused::Credentials => KafkaRefusal::Authentication {
                brokers,
                user: self.credentials.user.clone(),
                reason,
            },
            Refused::Certificate => KafkaRefusal::Certificate {
                brokers,
                ca_file: self.credentials.ca_file.clone(),
                reason,
            },
        })
    }

    /// When `code` says the brokers' ACLs deny the user what a client asked (retrying cannot
    /// help either), the words for it, to go after what was asked.
    pub fn authorization_failure(&self, code: RDKafkaErrorCode) -> Option<String> {
        let denied = matches!(
            code,
            RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::GroupAuthorizationFailed
                | RDKafkaErrorCode::ClusterAuthorizationFailed
                | RDKafkaErrorCode::TransactionalIdAuthorizationFailed
        );
        denied.then(|| {
            format!(
                "authorization failed: the brokers' ACLs deny user {:?} this",
                self.credentials.user
            )
        })
    }

    /// `error` in words, led by [`Self::authorization_failure`] when `code` is one.
    pub fn describe_failure(
        &self,
        code: Option<RDKafkaErrorCode>,
        error: &dyn fmt::Display,
    ) -> String {
        match code.and_then(|code| self.authorization_failure(code)) {
            Some(denied) => format!("{denied}: {error}"),
            None => error.to_string(),
        }
    }

    /// Waits until a probe client is let in, so that a wrong password or an untrusted broker
    /// certificate fails the program at once, saying so, rather than after its timeouts. Brokers
    /// that cannot be reached at all are left to the programs' own clients, whose timeouts
    /// report them; so is a probe that cannot be built (they fail the same way).
    pub fn check_access(&self) -> Result<(), KafkaRefusal> {
        let Ok(probe) = self
            .client_config(ClientRole::Admin)
            .create_with_context::<_, BaseProducer<RefusalWatch>>(RefusalWatch::default())
        else {
            return Ok(());
        };
        let deadline = Instant::now() + self.request_timeout;
        while Instant::now() < deadline {
            // Serves the error events to the watch.
            probe.poll(PROBE_SLICE);
            let watch = probe.context();
            if let Some(refusal) = watch.refusal(self) {
                return Err(refusal);
            }
            // librdkafka reports a broker's refusal before the broker counts as down.
            if watch.all_brokers_down() {
                return Ok(());
            }
            // Metadata only comes from a broker that has let the client in.
            if probe.client().fetch_metadata(None, PROBE_SLICE).is_ok() {
                return Ok(());
            }
        }
        Ok(())
    }
}

/// A client context that keeps the first refusal the client's error events report, for the
/// loops to consult; and whether every broker is down.
#[derive(Default)]
pub struct RefusalWatch {
    first: Mutex<Option<(RDKafkaErrorCode, String)>>,
    all_brokers_down: AtomicBool,
}

impl RefusalWatch {
    /// For [`ClientContext::error`].
    pub fn observe(&self, error: &KafkaError, reason: &str) {
        let Some(code) = error.rdkafka_error_code() else {
            return;
        };
        if code == RDKafkaErrorCode::AllBrokersDown {
            self.all_brokers_down.store(true, Ordering::Relaxed);
        } else if refused(code, reason).is_some() {
            let mut first = self.first.lock().unwrap_or_else(|p| p.into_inner());
            first.get_or_insert_with(|| (code, reason.to_string()));
        }
    }

    /// The first refusal seen, named for a client of `settings`.
    pub fn refusal(&self, settings: &KafkaClientSettings) -> Option<KafkaRefusal> {
        let first = self.first.lock().unwrap_or_else(|p| p.into_inner());
        let (code, reason) = first.as_ref()?;
        settings.refusal(*code, reason)
    }

    fn all_brokers_down(&self) -> bool {
        self.all_brokers_down.load(Ordering::Relaxed)
    }
}

impl ClientContext for RefusalWatch {
    fn error(&self, error: KafkaError, reason: &str) {
        self.observe(&error, reason);
    }
}

/// For the probe of [`KafkaClientSettings::check_access`], which sends nothing.
impl ProducerContext for RefusalWatch {
    type DeliveryOpaque = ();

    fn delivery(&self, _: &DeliveryResult<'_>, _: ()) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::client::test_support::settings;

    #[test]
    fn refusals_name_the_brokers_and_the_user_never_the_password() {
        let settings = settings(&[]);
        let refused = settings
            .refusal(
                RDKafkaErrorCode::Authentication,
                "SASL authentication error",
            )
            .unwrap()
            .to_string();
        assert!(
            refused.contains("127.0.0.1:9092")
                && refused.contains("authentication failed for user \"mhfz-test\"")
                && refused.contains("SASL authentication error")
                && !refused.contains("hunter2"),
            "{refused}"
        );
        let refused = settings
            .refusal(RDKafkaErrorCode::SSL, "SSL handshake failed")
            .unwrap()
            .to_string();
        assert!(
            refused.contains("certificate")
                && refused.contains("Cargo.toml")
                && refused.contains("SSL handshake failed"),
            "{refused}"
        );
        // What librdkafka's retries may cure is not a refusal.
        for code in [
            RDKafkaErrorCode::BrokerTransportFailure,
            RDKafkaErrorCode::AllBrokersDown,
            RDKafkaErrorCode::OperationTimedOut,
        ] {
            assert_eq!(settings.refusal(code, ""), None, "{code:?}");
            assert_eq!(settings.authorization_failure(code), None, "{code:?}");
        }
        for code in [
            RDKafkaErrorCode::TopicAuthorizationFailed,
            RDKafkaErrorCode::GroupAuthorizationFailed,
            RDKafkaErrorCode::ClusterAuthorizationFailed,
        ] {
            let denied = settings.describe_failure(Some(code), &code);
            assert!(
                denied.starts_with("authorization failed")
                    && denied.contains("user \"mhfz-test\"")
                    && denied.contains(&code.to_string()),
                "{denied}"
            );
        }
        let error = KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge);
        assert_eq!(
            settings.describe_failure(error.rdkafka_error_code(), &error),
            error.to_string()
        );
    }

    #[test]
    fn the_watch_keeps_the_first_refusal_and_notices_all_brokers_down() {
        let settings = settings(&[]);
        let watch = RefusalWatch::default();
        let global = KafkaError::Global;
        watch.observe(&global(RDKafkaErrorCode::BrokerTransportFailure), "refused");
        assert_eq!(watch.refusal(&settings), None);
        let early = "error:0A000086:SSL routines::certificate verify failed";
        let certificate = RefusalWatch::default();
        certificate.observe(&global(RDKafkaErrorCode::BrokerTransportFailure), early);
        assert!(
            matches!(
                certificate.refusal(&settings),
                Some(KafkaRefusal::Certificate { .. })
            ),
            "a transport failure in OpenSSL's words"
        );
        assert!(!watch.all_brokers_down());
        watch.observe(&global(RDKafkaErrorCode::Authentication), "first");
        watch.observe(&global(RDKafkaErrorCode::SSL), "second");
        watch.observe(
            &global(RDKafkaErrorCode::AllBrokersDown),
            "1/1 brokers are down",
        );
        assert!(watch.all_brokers_down());
        match watch.refusal(&settings) {
            Some(KafkaRefusal::Authentication { reason, .. }) => assert_eq!(reason, "first"),
            other => panic!("{other:?}"),
        }
    }
}
