//! robots.txt as RFC 9309 describes it: user-agent groups, Allow/Disallow with `*` and `$`, the longest
//! match wins and Allow wins a tie; Sitemap lines; Crawl-delay as a politeness hint.

use std::time::Duration;

use url::Url;

/// The product token the crawler announces and looks for in `User-agent` lines.
pub const ROBOTS_TOKEN: &str = "DialtoneBot";

/// How much of a robots.txt is read; RFC 9309 asks crawlers to parse at least 500 KiB.
pub const MAX_ROBOTS_BYTES: usize = 500 * 1024;

/// The rules of one robots.txt that apply to [`ROBOTS_TOKEN`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Robots {
    rules: Vec<Rule>,
    sitemaps: Vec<String>,
    crawl_delay: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    allow: bool,
    /// Percent-encoded pattern, as URL paths are.
    pattern: String,
}

#[derive(Debug, Default)]
struct Group {
    agents: Vec<String>,
    rules: Vec<Rule>,
    crawl_delay: Option<Duration>,
}

impl Robots {
    /// Everything allowed: no robots.txt (4xx), or one that says nothing about us.
    pub fn allow_all() -> Self {
        Self::default()
    }

    /// Everything disallowed: robots.txt unreachable with a server error, which RFC 9309 says to read
    /// as a full disallow.
    pub fn disallow_all() -> Self {
        Self {
            rules: vec![Rule {
                allow: false,
                pattern: "/".to_owned(),
            }],
            ..Self::default()
        }
    }

    /// Parses a robots.txt for `agent` (a product token such as [`ROBOTS_TOKEN`]). Never fails: lines it
    /// does not understand are ignored, as the RFC asks.
    pub fn parse(text: &str, agent: &str) -> Self {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut groups: Vec<Group> = Vec::new();
        let mut sitemaps = Vec::new();
        // Whether the current group has seen a rule yet: a user-agent line after rules starts a new group.
        let mut in_rules = true;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default().trim();
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim();
            match key.as_str() {
                "user-agent" => {
                    if in_rules || groups.is_empty() {
                        groups.push(Group::default());
                        in_rules = false;
                    }
                    if let Some(group) = groups.last_mut() {
                        // `DialtoneBot/1.0` names the same product as `DialtoneBot`.
                        let token = value.split(['/', ' ']).next().unwrap_or_default();
                        group.agents.push(token.to_ascii_lowercase());
                    }
                }
                "allow" | "disallow" => {
                    in_rules = true;
                    // An empty Disallow means "nothing disallowed": no rule at all.
                    if value.is_empty() {
                        continue;
                    }
                    if let Some(group) = groups.last_mut() {
                        group.rules.push(Rule {
                            allow: key == "allow",
                            pattern: encode_pattern(value),
                        });
                    }
                }
                "crawl-delay" => {
                    in_rules = true;
                    let delay = value
                        .parse::<f64>()
                        .ok()
                        .filter(|d| d.is_finite() && *d >= 0.0);
                    if let (Some(group), Some(delay)) = (groups.last_mut(), delay) {
                        group.crawl_delay = Some(Duration::from_secs_f64(delay.min(3600.0)));
                    }
                }
                // Sitemap lines belong to no group.
                "sitemap" if !value.is_empty() => sitemaps.push(value.to_owned()),
                _ => {}
            }
        }
        let agent = agent.to_ascii_lowercase();
        let named: Vec<&Group> = groups
            .iter()
            .filter(|g| g.agents.contains(&agent))
            .collect();
        let chosen = if named.is_empty() {
            groups
                .iter()
                .filter(|g| g.agents.iter().any(|a| a == "*"))
                .collect()
        } else {
            named
        };
        Self {
            rules: chosen
                .iter()
                .flat_map(|g| g.rules.iter().cloned())
                .collect(),
            crawl_delay: chosen.iter().find_map(|g| g.crawl_delay),
            sitemaps,
        }
    }

    /// Whether the URL may be fetched. robots.txt itself always may.
    pub fn allows(&self, url: &Url) -> bool {
        let mut target = url.path().to_owned();
        if let Some(query) = url.query() {
            target.push('?');
            target.push_str(query);
        }
        self.allows_path(&target)
    }

    /// Whether the path (with its query, percent-encoded) may be fetched.
    pub fn allows_path(&self, path: &str) -> bool {
        if path == "/robots.txt" {
            return true;
        }
        let best = self
            .rules
            .iter()
            .filter(|r| matches(&r.pattern, path))
            .max_by_key(|r| (r.pattern.len(), r.allow));
        best.is_none_or(|r| r.allow)
    }

    /// Whether nothing at all may be fetched: `Disallow: /` without any Allow.
    pub fn disallows_all(&self) -> bool {
        !self.allows_path("/") && !self.rules.iter().any(|r| r.allow)
    }

    /// Sitemap URLs as written (usually absolute).
    pub fn sitemaps(&self) -> &[String] {
        &self.sitemaps
    }

    /// The Crawl-delay asked of us, if any.
    pub fn crawl_delay(&self) -> Option<Duration> {
        self.crawl_delay
    }
}

/// Percent-encodes what URL paths carry encoded (non-ASCII, spaces), so `/café` matches `/caf%C3%A9`.
fn encode_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        if c.is_ascii() && !c.is_ascii_control() && c != ' ' {
            out.push(c);
        } else {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Matches a robots pattern against the start of a path: `*` is any run of characters, a final `$`
/// anchors the end. Iterative with one backtrack point, so a hostile pattern costs O(pattern * path).
fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p.as_bytes(), true),
        None => (pattern.as_bytes(), false),
    };
    let path = path.as_bytes();
    let (mut p, mut s) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p == pattern.len() {
            if !anchored || s == path.len() {
                return true;
            }
        } else if pattern[p] == b'*' {
            star = Some((p, s));
            p += 1;
            continue;
        } else if s < path.len() && pattern[p] == path[s] {
            p += 1;
            s += 1;
            continue;
        }
        // Mismatch (or an anchored end not reached): let the last `*` swallow one more character.
        match star {
            Some((sp, ss)) if ss < path.len() => {
                star = Some((sp, ss + 1));
                p = sp + 1;
                s = ss + 1;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn robots(text: &str) -> Robots {
        Robots::parse(text, ROBOTS_TOKEN)
    }

    #[test]
    fn groups_pick_our_agent_over_the_wildcard() {
        let r = robots(
            "User-agent: *\nDisallow: /\n\nUser-agent: Googlebot\nUser-agent: dialtonebot/2.1\nDisallow: /private/\n",
        );
        assert!(r.allows_path("/"));
        assert!(r.allows_path("/about"));
        assert!(!r.allows_path("/private/x"));
        assert!(!r.disallows_all());
    }

    #[test]
    fn wildcard_group_applies_when_none_names_us() {
        let r =
            robots("User-agent: Googlebot\nDisallow: /g\n\nUser-agent: *\nDisallow: /admin # no\n");
        assert!(r.allows_path("/g"));
        assert!(!r.allows_path("/admin/login"));
        let none = robots("User-agent: Googlebot\nDisallow: /\n");
        assert!(none.allows_path("/anything"));
    }

    #[test]
    fn groups_for_one_agent_merge() {
        let r = robots(
            "User-agent: DialtoneBot\nDisallow: /a\n\nUser-agent: DialtoneBot\nDisallow: /b\n",
        );
        assert!(!r.allows_path("/a"));
        assert!(!r.allows_path("/b"));
        assert!(r.allows_path("/c"));
    }

    #[test]
    fn longest_match_wins_and_allow_wins_ties() {
        let r =
            robots("User-agent: *\nDisallow: /shop\nAllow: /shop/hours\nAllow: /x\nDisallow: /x\n");
        assert!(!r.allows_path("/shop/cart"));
        assert!(r.allows_path("/shop/hours.html"));
        assert!(r.allows_path("/x/y"));
    }

    #[test]
    fn wildcards_and_end_anchor() {
        let r =
            robots("User-agent: *\nDisallow: /*.pdf$\nDisallow: /*?session=\nDisallow: /exact$\n");
        assert!(!r.allows_path("/files/menu.pdf"));
        assert!(r.allows_path("/files/menu.pdf.html"));
        assert!(!r.allows_path("/page?session=3"));
        assert!(r.allows_path("/page?lang=en"));
        assert!(!r.allows_path("/exact"));
        assert!(r.allows_path("/exact/more"));
        assert!(matches("/a*b*c", "/axxbyyc"));
        assert!(!matches("/a*b*c$", "/axxbyycd"));
        assert!(matches("*", ""));
    }

    #[test]
    fn disallow_all_and_empty_disallow() {
        assert!(robots("User-agent: *\nDisallow: /\n").disallows_all());
        assert!(!robots("User-agent: *\nDisallow:\n").disallows_all());
        assert!(!robots("User-agent: *\nDisallow: /\nAllow: /$\n").disallows_all());
        assert!(Robots::disallow_all().disallows_all());
        assert!(Robots::disallow_all().allows_path("/robots.txt"));
        assert!(!Robots::allow_all().disallows_all());
    }

    #[test]
    fn rules_before_any_user_agent_are_ignored() {
        let r = robots("Disallow: /\nUser-agent: *\nDisallow: /tmp\n");
        assert!(r.allows_path("/"));
        assert!(!r.allows_path("/tmp"));
    }

    #[test]
    fn sitemaps_and_crawl_delay() {
        let r = robots(
            "\u{feff}Sitemap: https://a.com/s1.xml\nUser-agent: *\nCrawl-delay: 1.5\nsitemap: /s2.xml\n",
        );
        assert_eq!(r.sitemaps(), ["https://a.com/s1.xml", "/s2.xml"]);
        assert_eq!(r.crawl_delay(), Some(Duration::from_millis(1500)));
        assert_eq!(
            robots("User-agent: *\nCrawl-delay: soon\n").crawl_delay(),
            None
        );
    }

    #[test]
    fn non_ascii_patterns_match_encoded_paths() {
        let r = robots("User-agent: *\nDisallow: /café\n");
        let url = Url::parse("https://a.com/café/menu").unwrap();
        assert!(!r.allows(&url));
    }

    #[test]
    fn hostile_input_is_harmless() {
        let long = format!("User-agent: *\nDisallow: /{}$\n", "*a".repeat(2000));
        let r = robots(&long);
        assert!(!r.allows_path(&format!("/{}", "a".repeat(3000))));
        assert!(r.allows_path(&format!("/{}b", "a".repeat(3000))));
        let _ = robots("\0\0:::\r\n\r\nUser-agent\nDisallow");
    }
}
