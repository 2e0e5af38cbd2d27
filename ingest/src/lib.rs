//! placeholder: filled by the parser work
