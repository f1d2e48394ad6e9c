//! Issue 20's link previews, the pure part: which link of a message is previewed (the first one
//! outside code; none when it is written `<https://…>`), and what a page says about itself (its
//! `og:`/`twitter:` meta tags, `<meta name="description">` and `<title>`), read with a small
//! scanner of tags, not a browser: nothing of the page runs, and only text comes out.

/// The first link of a message text: `Some(url)` when it should be previewed, `None` when there
/// is no link outside code or the first one is wrapped in angle brackets.
pub fn preview_link(text: &str) -> Option<String> {
    let prose = without_code(text);
    let mut from = 0;
    while let Some(found) = find_scheme(&prose[from..]) {
        let at = from + found;
        let word_start = at == 0 || !prose[..at].ends_with(|c: char| c.is_alphanumeric());
        if !word_start {
            from = at + 4;
            continue;
        }
        let end = prose[at..]
            .find(|c: char| c.is_whitespace() || "<>\"'`".contains(c))
            .map_or(prose.len(), |n| at + n);
        let url = prose[at..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']']);
        let bracketed = prose[..at].ends_with('<') && prose[at + url.len()..].starts_with('>');
        return (!bracketed && url.len() > "https://".len()).then(|| url.to_owned());
    }
    None
}

fn find_scheme(s: &str) -> Option<usize> {
    let lower = s.to_ascii_lowercase();
    match (lower.find("https://"), lower.find("http://")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The text with fenced code blocks and inline code spans blanked (same length).
fn without_code(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut fenced = false;
    for line in text.split_inclusive('\n') {
        let fence = line.trim_start().starts_with("```");
        if fenced || fence {
            out.extend(line.chars().map(|c| if c == '\n' { c } else { ' ' }));
            if fence {
                fenced = !fenced;
            }
            continue;
        }
        let mut in_code = false;
        for c in line.chars() {
            if c == '`' {
                in_code = !in_code;
            }
            out.push(if in_code || c == '`' { ' ' } else { c });
        }
    }
    out
}

/// What a page says about itself (each at most a few hundred characters, plain text).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PageMeta {
    pub title: Option<String>,
    pub description: Option<String>,
    pub site_name: Option<String>,
    /// The image's URL as the page wrote it (relative or absolute).
    pub image: Option<String>,
}

const MAX_TITLE: usize = 200;
const MAX_DESCRIPTION: usize = 400;

/// Reads the meta tags and title of `html`.
pub fn page_meta(html: &str) -> PageMeta {
    let mut found: Vec<(String, String)> = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while let Some(n) = lower[at..].find("<meta") {
        let start = at + n;
        let end = tag_end(&lower, start);
        let attrs = attributes(&html[start + 5..end]);
        let key = attr(&attrs, "property").or_else(|| attr(&attrs, "name"));
        if let (Some(k), Some(v)) = (key, attr(&attrs, "content")) {
            found.push((k.to_ascii_lowercase(), v));
        }
        at = end;
    }
    let get = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| found.iter().find(|(fk, v)| fk == k && !v.trim().is_empty()))
            .map(|(_, v)| v.clone())
    };
    let title = get(&["og:title", "twitter:title"]).or_else(|| title_tag(html, &lower));
    PageMeta {
        title: title.map(|t| clean(&t, MAX_TITLE)),
        description: get(&["og:description", "twitter:description", "description"])
            .map(|d| clean(&d, MAX_DESCRIPTION)),
        site_name: get(&["og:site_name"]).map(|s| clean(&s, MAX_TITLE)),
        image: get(&["og:image", "og:image:url", "twitter:image"]).map(|i| decode(i.trim())),
    }
}

/// Where the tag opened at `start` ends: its `>` outside quoted attribute values.
fn tag_end(s: &str, start: usize) -> usize {
    let (mut quote, mut prev) = (None, ' ');
    for (i, c) in s[start..].char_indices() {
        match (quote, c) {
            (None, '"' | '\'') if prev == '=' => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return start + i,
            _ => {}
        }
        if !c.is_whitespace() {
            prev = c;
        }
    }
    s.len()
}

fn title_tag(html: &str, lower: &str) -> Option<String> {
    let open = lower.find("<title")?;
    let body = open + lower[open..].find('>')? + 1;
    let close = body + lower[body..].find("</title")?;
    Some(html[body..close].to_owned())
}

fn attr(attrs: &[(String, String)], name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// `name="value"`, `name='value'` and `name=value` pairs of a tag's inside.
fn attributes(inside: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = inside;
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq]
            .rsplit(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let after = rest[eq + 1..].trim_start();
        let (value, next) = match after.chars().next() {
            Some(q @ ('"' | '\'')) => match after[1..].find(q) {
                Some(e) => (&after[1..1 + e], &after[e + 2..]),
                None => (&after[1..], ""),
            },
            _ => {
                let e = after.find(char::is_whitespace).unwrap_or(after.len());
                (&after[..e], &after[e..])
            }
        };
        out.push((name, value.to_owned()));
        rest = next;
    }
    out
}

/// Entities decoded, whitespace folded, no control characters, at most `max` characters.
fn clean(s: &str, max: usize) -> String {
    let decoded = decode(s);
    let folded: Vec<&str> = decoded.split_whitespace().collect();
    let text: String = folded
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if text.chars().count() <= max {
        return text;
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// The common HTML entities and numeric references.
fn decode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        let semi = tail.find(';').filter(|&n| n <= 10);
        let named = semi.and_then(|n| entity(&tail[1..n]));
        match (semi, named) {
            (Some(n), Some(c)) => {
                out.push(c);
                rest = &tail[n + 1..];
            }
            _ => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    let code = |digits: &str, radix| u32::from_str_radix(digits, radix).ok();
    let n = match name {
        "amp" => Some('&' as u32),
        "lt" => Some('<' as u32),
        "gt" => Some('>' as u32),
        "quot" => Some('"' as u32),
        "apos" => Some('\'' as u32),
        "nbsp" => Some(' ' as u32),
        _ => match name.strip_prefix('#') {
            Some(hex) if hex.starts_with(['x', 'X']) => code(&hex[1..], 16),
            Some(dec) => code(dec, 10),
            None => None,
        },
    };
    n.and_then(char::from_u32).filter(|c| *c != '\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_link_outside_code_is_previewed_unless_bracketed() {
        let p = |t: &str| preview_link(t);
        assert_eq!(
            p("see https://example.com/a?b=1."),
            Some("https://example.com/a?b=1".into())
        );
        assert_eq!(
            p("[docs](https://example.com/d) and http://x.example/"),
            Some("https://example.com/d".into())
        );
        assert_eq!(
            p("`https://code.example/` then https://b.example/x"),
            Some("https://b.example/x".into())
        );
        assert_eq!(p("```\nhttps://fenced.example/\n```\n"), None);
        assert_eq!(p("quiet <https://example.com/> please"), None);
        assert_eq!(p("no links, nothttps://x.example"), None);
        assert_eq!(p("just https://"), None);
    }

    #[test]
    fn a_page_describes_itself_in_meta_tags_or_its_title() {
        let html = r#"<html><head><title>Plain &amp; simple</title>
            <meta property="og:title" content="The &quot;Guide&quot;">
            <meta name=description content='Learn &#x41;BC &lt;fast&gt;'>
            <meta property="og:site_name" content="Example">
            <META PROPERTY="og:image" CONTENT="/img/card.png?a=1&amp;b=2"/></head></html>"#;
        let m = page_meta(html);
        assert_eq!(m.title.as_deref(), Some("The \"Guide\""));
        assert_eq!(m.description.as_deref(), Some("Learn ABC <fast>"));
        assert_eq!(m.site_name.as_deref(), Some("Example"));
        assert_eq!(m.image.as_deref(), Some("/img/card.png?a=1&b=2"));
        let bare = page_meta("<title>\n  Only   a title\u{7} </title>");
        assert_eq!(bare.title.as_deref(), Some("Only a title"));
        assert_eq!(bare.description, None);
        let long = page_meta(&format!("<title>{}</title>", "x".repeat(500)));
        assert_eq!(long.title.map(|t| t.chars().count()), Some(MAX_TITLE));
    }
}
