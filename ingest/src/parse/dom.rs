//! Building the document tree and reading it cheaply.

use html5ever::tendril::TendrilSink;
use scraper::node::Element;
use scraper::{Html, HtmlTreeSink, Node};

/// Tree nodes per input byte, rounded up: the site's pages average one node per ~10 bytes.
const BYTES_PER_NODE: usize = 8;

/// Parses a whole page. Same tree as `Html::parse_document`, but the node arena is sized up
/// front: growing it node by node re-copies multi-megabyte arenas several times per page.
pub(crate) fn parse_document(source: &str) -> Html {
    let mut document = Html::new_document();
    document.tree =
        ego_tree::Tree::with_capacity(Node::Document, source.len() / BYTES_PER_NODE + 1);
    html5ever::driver::parse_document(HtmlTreeSink::new(document), Default::default()).one(source)
}

/// An attribute's value. Unlike `Element::attr`, it does not intern `name` on every call.
pub(crate) fn attr<'a>(element: &'a Element, name: &str) -> Option<&'a str> {
    element
        .attrs()
        .find(|(attribute, _)| *attribute == name)
        .map(|(_, value)| value)
}
