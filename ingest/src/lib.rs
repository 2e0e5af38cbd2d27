//! placeholder: filled by the parser work
pub mod consumer;
pub mod kafka;
pub mod parse;
pub mod scrape;
pub mod site;
