//! Visible text of a page as blocks that remember where they sat (header, nav, main, footer) and what they
//! were (heading, list item, cell), with scripts, styles and hidden elements removed.
//!
//! Extraction weighs evidence by placement, and the knowledge base wants the main copy without navigation;
//! both read this one walk of the DOM.

use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node};

use super::elements::{is_block, is_hidden, is_quoted, is_void, region_of};

/// Caps that keep one hostile page from costing unbounded memory or time.
const MAX_BLOCKS: usize = 20_000;
const MAX_BLOCK_CHARS: usize = 2_000;
const MAX_LINKS: usize = 5_000;

/// Where on the page a block sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    /// Site header or banner.
    Header,
    /// Navigation menus.
    Nav,
    /// The page's own content.
    Main,
    /// Sidebars and asides.
    Aside,
    /// Site footer.
    Footer,
}

impl Region {
    /// Header and footer repeat on every page and carry the site-wide contact details.
    pub fn is_chrome(self) -> bool {
        matches!(self, Region::Header | Region::Footer)
    }
}

/// What kind of element a block came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// `h1`..`h6`, with its level.
    Heading(u8),
    /// `li`.
    ListItem,
    /// `p`.
    Paragraph,
    /// `td`, `th` (tables are also read row by row).
    Cell,
    /// Anything else (`div`, `section`, `address`, ...).
    Other,
}

/// A run of text between block boundaries; lines broken by `<br>` are kept as `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Whitespace-collapsed text.
    pub text: String,
    /// Element kind.
    pub kind: BlockKind,
    /// Placement.
    pub region: Region,
    /// Inside a quotation, testimonial, review or partner mention: someone else's words or details.
    pub quoted: bool,
    /// Inside an `<address>` element.
    pub in_address: bool,
    /// Index of the nearest heading above this block (for a heading: its parent heading).
    pub heading: Option<usize>,
    /// Identifies the `ul`/`ol` a list item belongs to.
    pub list: Option<u32>,
}

/// A hyperlink with its placement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The raw `href`.
    pub href: String,
    /// Anchor text.
    pub text: String,
    /// Placement.
    pub region: Region,
    /// Inside quoted content.
    pub quoted: bool,
}

/// A page's visible text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageText {
    /// Blocks in document order.
    pub blocks: Vec<Block>,
    /// Links in document order.
    pub links: Vec<Link>,
}

impl PageText {
    /// Reads the visible text of a parsed document.
    pub fn from_html(doc: &Html) -> Self {
        Walker::default().walk(doc)
    }

    /// Text of the blocks in `region`, one block per line.
    pub fn text_in(&self, region: Region) -> String {
        let mut out = String::new();
        for b in self.blocks.iter().filter(|b| b.region == region) {
            out.push_str(&b.text);
            out.push('\n');
        }
        out
    }

    /// The heading chain above block `i`, nearest first.
    pub fn headings_above(&self, i: usize) -> impl Iterator<Item = &Block> + '_ {
        let mut next = self.blocks.get(i).and_then(|b| b.heading);
        std::iter::from_fn(move || {
            let h = self.blocks.get(next?)?;
            next = h.heading;
            Some(h)
        })
    }
}

/// The page's main copy without navigation, header, footer, scripts or hidden elements: what the knowledge
/// base should index.
pub fn visible_text(html: &str) -> String {
    PageText::from_html(&Html::parse_document(html)).text_in(Region::Main)
}

#[derive(Debug, Clone, Copy)]
struct Frame {
    region: Region,
    quoted: bool,
    in_address: bool,
    in_content: bool,
    kind: BlockKind,
    list: Option<u32>,
}

impl Default for Frame {
    fn default() -> Self {
        Frame {
            region: Region::Main,
            quoted: false,
            in_address: false,
            in_content: false,
            kind: BlockKind::Other,
            list: None,
        }
    }
}

#[derive(Debug, Default)]
struct Walker {
    out: PageText,
    stack: Vec<Frame>,
    buf: String,
    /// Set at an inline element boundary: the next text may need a separating space.
    soft_break: bool,
    skipping: Option<ego_tree::NodeId>,
    /// Open heading blocks by level (index 0 = h1), for section nesting.
    heading_at: [Option<usize>; 6],
    /// Region of the blocks `heading_at` refers to.
    section_region: Option<Region>,
    lists: u32,
    link: Option<(String, usize)>,
}

impl Walker {
    fn walk(mut self, doc: &Html) -> PageText {
        for edge in doc.tree.root().traverse() {
            match edge {
                Edge::Open(node) => {
                    if self.skipping.is_some() {
                        continue;
                    }
                    match node.value() {
                        Node::Text(t) => self.push_text(t),
                        Node::Element(_) => {
                            let Some(el) = ElementRef::wrap(node) else {
                                continue;
                            };
                            if is_hidden(el) {
                                self.skipping = Some(node.id());
                                continue;
                            }
                            self.open(el);
                        }
                        _ => {}
                    }
                }
                Edge::Close(node) => {
                    if let Some(id) = self.skipping {
                        if id == node.id() {
                            self.skipping = None;
                        }
                        continue;
                    }
                    if let Some(el) = ElementRef::wrap(node) {
                        self.close(el);
                    }
                }
            }
        }
        self.flush();
        self.out
    }

    fn top(&self) -> Frame {
        self.stack.last().copied().unwrap_or_default()
    }

    fn open(&mut self, el: ElementRef<'_>) {
        let name = el.value().name();
        let mut frame = self.top();
        if let Some(region) = region_of(el) {
            // A header or footer inside an article or `main` belongs to that content, not to the site.
            if !(frame.in_content && matches!(name, "header" | "footer")) {
                frame.region = region;
            }
        }
        frame.in_content |= matches!(name, "main" | "article");
        frame.quoted |= is_quoted(el);
        frame.in_address |= name == "address";
        if matches!(name, "ul" | "ol") {
            self.lists += 1;
            frame.list = Some(self.lists);
        }
        if name == "br" {
            self.buf.push('\n');
            return;
        }
        if name == "a"
            && let Some(href) = el.value().attr("href")
        {
            self.link = Some((href.to_owned(), self.buf.len()));
        }
        if is_block(name) {
            self.flush();
            frame.kind = match name {
                "h1" => BlockKind::Heading(1),
                "h2" => BlockKind::Heading(2),
                "h3" => BlockKind::Heading(3),
                "h4" => BlockKind::Heading(4),
                "h5" => BlockKind::Heading(5),
                "h6" => BlockKind::Heading(6),
                "li" => BlockKind::ListItem,
                "p" => BlockKind::Paragraph,
                "td" | "th" => BlockKind::Cell,
                _ => BlockKind::Other,
            };
        } else {
            self.soft_break = true;
        }
        if is_void(name) {
            return;
        }
        self.stack.push(frame);
    }

    fn close(&mut self, el: ElementRef<'_>) {
        let name = el.value().name();
        if is_void(name) {
            return;
        }
        if name == "a"
            && let Some((href, start)) = self.link.take()
        {
            let text = self.buf.get(start..).map(collapse).unwrap_or_default();
            let f = self.top();
            if self.out.links.len() < MAX_LINKS {
                self.out.links.push(Link {
                    href,
                    text,
                    region: f.region,
                    quoted: f.quoted,
                });
            }
        }
        if is_block(name) {
            self.flush();
        } else {
            self.soft_break = true;
        }
        self.stack.pop();
    }

    fn push_text(&mut self, t: &str) {
        if self.soft_break {
            self.soft_break = false;
            let last = self.buf.chars().last();
            let first = t.chars().next();
            if let (Some(l), Some(f)) = (last, first) {
                let glue = l.is_whitespace()
                    || f.is_whitespace()
                    || matches!(f, ',' | '.' | ';' | ':' | '!' | '?' | ')')
                    || matches!(l, '$' | '(' | '@' | '/' | '-');
                if !glue {
                    self.buf.push(' ');
                }
            }
        }
        if self.buf.len() < MAX_BLOCK_CHARS * 2 {
            self.buf.push_str(t);
        }
    }

    fn flush(&mut self) {
        self.soft_break = false;
        if self.buf.is_empty() {
            return;
        }
        let mut text = self
            .buf
            .split('\n')
            .map(collapse)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        self.buf.clear();
        // Link text offsets point into the buffer; a flush inside a link restarts them.
        if let Some((_, start)) = &mut self.link {
            *start = 0;
        }
        if text.is_empty() || self.out.blocks.len() >= MAX_BLOCKS {
            return;
        }
        if text.len() > MAX_BLOCK_CHARS {
            let mut cut = MAX_BLOCK_CHARS;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        let f = self.top();
        let index = self.out.blocks.len();
        // Sections do not run across regions: a footer heading is not under the last heading of the page.
        if self.section_region != Some(f.region) {
            self.section_region = Some(f.region);
            self.heading_at = [None; 6];
        }
        let heading = match f.kind {
            BlockKind::Heading(level) => {
                let level = usize::from(level.clamp(1, 6));
                let parent = self.heading_at[..level - 1]
                    .iter()
                    .rev()
                    .flatten()
                    .next()
                    .copied();
                self.heading_at[level - 1] = Some(index);
                for deeper in &mut self.heading_at[level..] {
                    *deeper = None;
                }
                parent
            }
            _ => self.heading_at.iter().rev().flatten().next().copied(),
        };
        self.out.blocks.push(Block {
            text,
            kind: f.kind,
            region: f.region,
            quoted: f.quoted,
            in_address: f.in_address,
            heading,
            list: if f.kind == BlockKind::ListItem {
                f.list
            } else {
                None
            },
        });
    }
}

/// Collapses runs of whitespace (including non-breaking spaces) to one space and trims.
pub fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split(|c: char| c.is_whitespace() || c == '\u{a0}') {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn blocks(html: &str) -> Vec<Block> {
        PageText::from_html(&Html::parse_document(html)).blocks
    }

    #[test]
    fn scripts_styles_and_hidden_elements_are_not_text() {
        let b = blocks(
            "<html><head><title>T</title><style>p{}</style></head><body><p>Seen</p>\
             <script>var x = 'unseen';</script><p hidden>gone</p><div style='display: none'>gone</div>\
             <noscript>gone</noscript><p>Also seen</p></body></html>",
        );
        let texts: Vec<&str> = b.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(texts, ["Seen", "Also seen"]);
    }

    #[test]
    fn blocks_know_their_region_kind_and_section() {
        let b = blocks(
            "<body><header><a href='tel:5035550100'>Call</a></header><nav><ul><li>Home</li></ul></nav>\
             <main><h1>Services</h1><h2>Cleanings</h2><ul><li>Exam</li></ul><p>Text</p></main>\
             <div class='site-footer'><p>Footer</p></div></body>",
        );
        assert_eq!(b[0].region, Region::Header);
        assert_eq!(b[1].region, Region::Nav);
        assert_eq!(b[2].kind, BlockKind::Heading(1));
        assert_eq!(b[3].kind, BlockKind::Heading(2));
        assert_eq!(b[3].heading, Some(2));
        assert_eq!(b[4].kind, BlockKind::ListItem);
        assert_eq!(b[4].heading, Some(3));
        assert!(b[4].list.is_some());
        assert_eq!(b[5].kind, BlockKind::Paragraph);
        assert_eq!(b[6].region, Region::Footer);
    }

    #[test]
    fn line_breaks_and_inline_boundaries_are_kept_apart() {
        let b = blocks(
            "<p>123 Main St<br>Portland, OR</p><p><span>Mon</span><span>9am-5pm</span></p><p>Dr.<b>Ann Lee</b>, DDS</p>",
        );
        assert_eq!(b[0].text, "123 Main St\nPortland, OR");
        assert_eq!(b[1].text, "Mon 9am-5pm");
        assert_eq!(b[2].text, "Dr. Ann Lee, DDS");
    }

    #[test]
    fn testimonials_are_marked_quoted_and_links_are_collected() {
        let page = PageText::from_html(&Html::parse_document(
            "<body><div class='testimonial'><p>Call <a href='tel:+15035550199'>555-0199</a></p></div>\
             <footer><a href='mailto:hi@x.example'>Email us</a></footer></body>",
        ));
        assert!(page.blocks[0].quoted);
        assert_eq!(page.links.len(), 2);
        assert!(page.links[0].quoted);
        assert_eq!(page.links[0].text, "555-0199");
        assert_eq!(page.links[1].region, Region::Footer);
    }

    #[test]
    fn visible_text_drops_chrome() {
        let t = visible_text(
            "<header>Logo</header><main><p>Hello there</p></main><footer>(c)</footer>",
        );
        assert_eq!(t, "Hello there\n");
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        // The walk is iterative; the depth is kept modest because html5ever itself slows down on deep trees.
        let html = "<div>".repeat(3_000) + "deep" + &"</div>".repeat(3_000);
        let b = blocks(&html);
        assert!(b.iter().any(|b| b.text == "deep"));
    }
}
