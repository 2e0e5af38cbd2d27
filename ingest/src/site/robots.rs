//! robots.txt (RFC 9309): which paths a crawler with a given product token may fetch.

/// The rules of the robots.txt group that applies to one crawler.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RobotsRules {
    rules: Vec<Rule>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    allow: bool,
    pattern: String,
}

impl RobotsRules {
    /// Rules that allow everything: what a missing robots.txt (4xx) means.
    pub fn allow_all() -> RobotsRules {
        RobotsRules::default()
    }

    /// The rules of the groups naming `product` (case-insensitive), or else of the `*` groups.
    pub fn parse(text: &str, product: &str) -> RobotsRules {
        let groups = parse_groups(text);
        let rules_for = |agent: &str| -> Vec<Rule> {
            groups
                .iter()
                .filter(|group| group.agents.iter().any(|a| a.eq_ignore_ascii_case(agent)))
                .flat_map(|group| group.rules.iter().cloned())
                .collect()
        };
        let names_us = groups
            .iter()
            .any(|group| group.agents.iter().any(|a| a.eq_ignore_ascii_case(product)));
        RobotsRules {
            rules: rules_for(if names_us { product } else { "*" }),
        }
    }

    /// The longest matching rule decides; on a tie `Allow` wins; no match allows.
    pub fn allows(&self, path: &str) -> bool {
        self.rules
            .iter()
            .filter(|rule| pattern_matches(&rule.pattern, path))
            .max_by_key(|rule| (rule.pattern.len(), rule.allow))
            .is_none_or(|rule| rule.allow)
    }
}

/// User-agent lines followed by the rules that apply to all of them.
#[derive(Default)]
struct Group {
    agents: Vec<String>,
    rules: Vec<Rule>,
    /// A rule line (even an empty one) was read: the next user-agent line starts a new group.
    has_rule_lines: bool,
}

fn parse_groups(text: &str) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default();
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim().to_ascii_lowercase().as_str() {
            "user-agent" => {
                // A user-agent line after rules starts a new group.
                if groups.last().is_none_or(|group| group.has_rule_lines) {
                    groups.push(Group::default());
                }
                groups
                    .last_mut()
                    .expect("a group was just pushed")
                    .agents
                    .push(value.to_string());
            }
            // Rules before any user-agent line belong to no group.
            key @ ("allow" | "disallow") => {
                if let Some(group) = groups.last_mut() {
                    group.has_rule_lines = true;
                    // An empty `Disallow:` allows everything, so it adds no rule.
                    if !value.is_empty() {
                        group.rules.push(Rule {
                            allow: key == "allow",
                            pattern: value.to_string(),
                        });
                    }
                }
            }
            _ => {}
        }
    }
    groups
}

/// Prefix match with `*` (any run of characters) and a trailing `$` (end of path).
fn pattern_matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(stripped) => (stripped, true),
        None => (pattern, false),
    };
    let mut pieces = pattern.split('*');
    let first = pieces.next().unwrap_or_default();
    let Some(mut rest) = path.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = pieces.collect();
    for (i, piece) in pieces.iter().enumerate() {
        let is_last = i + 1 == pieces.len();
        if is_last && anchored {
            return rest.ends_with(piece);
        }
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    !anchored || rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specific_group_beats_wildcard() {
        let text = "User-agent: *\nDisallow: /\n\nUser-agent: MHFZ-Scraper\nDisallow: /private/\n";
        let rules = RobotsRules::parse(text, "mhfz-scraper");
        assert!(rules.allows("/buki/tachi.htm"));
        assert!(!rules.allows("/private/x"));
        let others = RobotsRules::parse(text, "otherbot");
        assert!(!others.allows("/buki/tachi.htm"));
    }

    #[test]
    fn longest_match_wins_and_allow_wins_ties() {
        let text =
            "User-agent: *\nDisallow: /buki/\nAllow: /buki/tachi\nDisallow: /buki/tachi_g.htm\n";
        let rules = RobotsRules::parse(text, "mhfz-scraper");
        assert!(rules.allows("/buki/tachi.htm"));
        assert!(!rules.allows("/buki/tachi_g.htm"));
        assert!(!rules.allows("/buki/taiken.htm"));
        assert!(rules.allows("/index.htm"));
        let tie = RobotsRules::parse("User-agent: *\nDisallow: /a\nAllow: /a\n", "x");
        assert!(tie.allows("/a"));
    }

    #[test]
    fn groups_with_several_agents_and_empty_disallow() {
        let text = "User-agent: a\nUser-agent: *\nDisallow:\n\nUser-agent: b\nDisallow: /\n";
        let rules = RobotsRules::parse(text, "mhfz-scraper");
        assert!(rules.allows("/anything"));
    }

    #[test]
    fn wildcards_and_end_anchor() {
        assert!(pattern_matches("/*.htm$", "/buki/tachi.htm"));
        assert!(!pattern_matches("/*.htm$", "/buki/tachi.htm?x"));
        assert!(pattern_matches("/buki/*_t", "/buki/tachi_t.htm"));
        assert!(!pattern_matches("/buki/*_t", "/buki/tachi.htm"));
        assert!(pattern_matches("/buki$", "/buki"));
        assert!(!pattern_matches("/buki$", "/buki/"));
    }

    #[test]
    fn comments_and_garbage_are_ignored() {
        let text = "# hello\nnonsense line\nUser-agent: * # all\nDisallow: /x # no\n";
        let rules = RobotsRules::parse(text, "mhfz-scraper");
        assert!(!rules.allows("/x/y"));
        assert!(rules.allows("/y"));
    }
}
