//! Flattening cell content into lines of styled text runs.
//!
//! Cells on the site are short runs of text separated by `<br>`, with a few inline styles that
//! carry meaning (`<u>` marks an ammo level, `<i>` a skill-only charge stage, `<a>` an item).
//! The walk is iterative (ego-tree's `traverse`), so hostile nesting cannot overflow the stack.

use ego_tree::iter::Edge;
use ego_tree::NodeRef;
use scraper::node::Element;
use scraper::Node;

use super::dom;

/// A piece of text with the inline styles around it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Run<'a> {
    pub text: &'a str,
    pub underlined: bool,
    pub italic: bool,
    /// `href` of the enclosing link, if any.
    pub link: Option<&'a str>,
}

/// One visual line: the runs between two line breaks.
pub(crate) type Line<'a> = Vec<Run<'a>>;

/// Concatenated text of a line.
pub(crate) fn line_text(line: &[Run<'_>]) -> String {
    line.iter().map(|run| run.text).collect()
}

/// Splits the content of `nodes` into lines: `<br>` and `<hr>` end a line, block elements
/// (`p`, `div`, `ul`, `li`, ...) start and end one.
pub(crate) fn lines<'a>(nodes: impl IntoIterator<Item = NodeRef<'a, Node>>) -> Vec<Line<'a>> {
    let mut out = LineBuilder::default();
    for node in nodes {
        out.walk(node);
    }
    out.finish()
}

/// The lines of `nodes` as trimmed strings, empty lines dropped.
pub(crate) fn plain_lines<'a>(nodes: impl IntoIterator<Item = NodeRef<'a, Node>>) -> Vec<String> {
    lines(nodes)
        .iter()
        .map(|line| line_text(line).trim().to_string())
        .filter(|line| !line.is_empty())
        .collect()
}

/// All text of `nodes` with line breaks as `\n`, trimmed at both ends.
pub(crate) fn joined_text<'a>(nodes: impl IntoIterator<Item = NodeRef<'a, Node>>) -> String {
    let lines: Vec<String> = lines(nodes).iter().map(|line| line_text(line)).collect();
    lines.join("\n").trim().to_string()
}

#[derive(Default)]
struct LineBuilder<'a> {
    lines: Vec<Line<'a>>,
    current: Line<'a>,
    underline_depth: usize,
    italic_depth: usize,
    links: Vec<Option<&'a str>>,
}

impl<'a> LineBuilder<'a> {
    fn walk(&mut self, node: NodeRef<'a, Node>) {
        for edge in node.traverse() {
            match edge {
                Edge::Open(node) => match node.value() {
                    Node::Text(text) => self.push_text(text),
                    Node::Element(element) => self.open(element),
                    _ => {}
                },
                Edge::Close(node) => {
                    if let Node::Element(element) = node.value() {
                        self.close(element.name());
                    }
                }
            }
        }
    }

    fn push_text(&mut self, text: &'a str) {
        if text.is_empty() {
            return;
        }
        self.current.push(Run {
            text,
            underlined: self.underline_depth > 0,
            italic: self.italic_depth > 0,
            link: self.links.last().copied().flatten(),
        });
    }

    fn open(&mut self, element: &'a Element) {
        match element.name() {
            "br" | "hr" => self.hard_break(),
            "u" => self.underline_depth += 1,
            "i" | "em" => self.italic_depth += 1,
            "a" => self.links.push(dom::attr(element, "href")),
            name if is_block(name) => self.soft_break(),
            _ => {}
        }
    }

    fn close(&mut self, name: &str) {
        match name {
            "u" => self.underline_depth = self.underline_depth.saturating_sub(1),
            "i" | "em" => self.italic_depth = self.italic_depth.saturating_sub(1),
            "a" => {
                self.links.pop();
            }
            name if is_block(name) => self.soft_break(),
            _ => {}
        }
    }

    /// `<br>`: always ends the line, even an empty one.
    fn hard_break(&mut self) {
        self.lines.push(std::mem::take(&mut self.current));
    }

    /// Block boundary: ends the line only if it has content.
    fn soft_break(&mut self) {
        if !self.current.is_empty() {
            self.hard_break();
        }
    }

    fn finish(mut self) -> Vec<Line<'a>> {
        self.soft_break();
        self.lines
    }
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div" | "ul" | "ol" | "li" | "table" | "tr" | "td" | "th" | "q" | "small"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Html;

    fn cell_lines(html: &str) -> Vec<String> {
        let doc = Html::parse_fragment(html);
        lines(doc.root_element().children())
            .iter()
            .map(|line| line_text(line))
            .collect()
    }

    #[test]
    fn breaks_and_blocks() {
        assert_eq!(cell_lines("a<br>b<br>"), ["a", "b"]);
        assert_eq!(cell_lines("a<br><br>b"), ["a", "", "b"]);
        assert_eq!(cell_lines("a<p>b</p>c"), ["a", "b", "c"]);
        assert_eq!(cell_lines("1740<hr>なし"), ["1740", "なし"]);
        assert_eq!(cell_lines("768 <s>-10%</s>"), ["768 -10%"]);
    }

    #[test]
    fn styles_are_tracked() {
        let doc = Html::parse_fragment(r#"6/<u>9</u><i>x</i><a href="h?1">k</a>"#);
        let lines = lines(doc.root_element().children());
        let runs = &lines[0];
        assert!(!runs[0].underlined && runs[1].underlined);
        assert!(runs[2].italic);
        assert_eq!(runs[3].link, Some("h?1"));
    }
}
