//! The class index `buki.htm`: which weapon pages exist.

use scraper::ElementRef;

use super::dom;

/// Page file names linked from the class index (`tachi_g.htm`; anchors and queries dropped),
/// first occurrence order, without duplicates. Links leaving the directory are ignored.
pub fn parse_class_index(html: &[u8]) -> Vec<String> {
    let source = String::from_utf8_lossy(html);
    let document = dom::parse_document(&source);
    let mut pages: Vec<String> = Vec::new();
    let links = document
        .tree
        .nodes()
        .filter_map(ElementRef::wrap)
        .filter(|element| element.value().name() == "a")
        .filter_map(|element| dom::attr(element.value(), "href"));
    for href in links {
        let file = href.split(['#', '?']).next().unwrap_or_default().trim();
        let is_local_page =
            (file.ends_with(".htm") || file.ends_with(".html")) && !file.contains(['/', '\\', ':']);
        if is_local_page && !pages.iter().any(|page| page == file) {
            pages.push(file.to_string());
        }
    }
    pages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_dropped_duplicates_removed() {
        let html =
            br##"<ul><li><a href="taiken.htm">Great Sword</a>/<a href="taiken_g.htm#t8">G</a>
            <li><a href="taiken_g.htm#t5">again</a><a href="../index.htm">up</a>
            <a href="https://example.com/x.htm">out</a><a name="x">no href</a><a href="#top">top</a>
            <li><a href="yumi_n.htm?x#t6">Bow</a></ul>"##;
        assert_eq!(
            parse_class_index(html),
            ["taiken.htm", "taiken_g.htm", "yumi_n.htm"]
        );
    }

    #[test]
    fn empty_and_invalid_input() {
        assert!(parse_class_index(b"").is_empty());
        assert_eq!(
            parse_class_index(b"<a href=\"a.htm\">\xff\xfe</a>"),
            ["a.htm"]
        );
    }
}
