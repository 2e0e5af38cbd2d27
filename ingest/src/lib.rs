//! placeholder: filled by the parser work
pub mod parse;
pub mod scrape;
pub mod site;
