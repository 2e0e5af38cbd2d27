//! Explicit topic creation: the broker does not create topics on first use.

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

use super::{KafkaConnection, KafkaSinkError};

/// A topic to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i32,
}

/// What creating one topic came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicStatus {
    Created,
    /// Left as it is (its partition count and replication are not changed).
    AlreadyExisted,
}

/// Creates `topics`; one that already exists is fine. Fails on the first topic that could not
/// be created.
pub fn create_topics(
    connection: &KafkaConnection,
    topics: &[TopicSpec],
) -> Result<Vec<(String, TopicStatus)>, KafkaSinkError> {
    let client_error = |source| KafkaSinkError::Client {
        brokers: connection.brokers.clone(),
        source,
    };
    let admin: AdminClient<DefaultClientContext> = connection
        .client_config(&[])
        .create()
        .map_err(client_error)?;
    let new_topics: Vec<NewTopic> = topics
        .iter()
        .map(|topic| {
            NewTopic::new(
                &topic.name,
                topic.partitions,
                TopicReplication::Fixed(topic.replication_factor),
            )
        })
        .collect();
    let options = AdminOptions::new()
        .request_timeout(Some(connection.request_timeout))
        .operation_timeout(Some(connection.request_timeout));
    let results = futures_executor::block_on(admin.create_topics(&new_topics, &options))
        // The whole request failed (no broker answered...): it failed for the first topic.
        .map_err(|error| KafkaSinkError::CreateTopic {
            topic: topics.first().map(|t| t.name.clone()).unwrap_or_default(),
            brokers: connection.brokers.clone(),
            reason: error.to_string(),
        })?;
    results
        .into_iter()
        .map(|result| match result {
            Ok(name) => Ok((name, TopicStatus::Created)),
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                Ok((name, TopicStatus::AlreadyExisted))
            }
            Err((topic, code)) => Err(KafkaSinkError::CreateTopic {
                topic,
                brokers: connection.brokers.clone(),
                reason: code.to_string(),
            }),
        })
        .collect()
}
