//! `report.html`: one self-contained page per run, sweep or compare.
//!
//! The page embeds its charts as inline SVG and its style in a `<style>`
//! element; it loads no script, font, image or stylesheet, so it opens from
//! disk with no network.

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}th,td{border:1px solid #ccc;padding:.25em .5em}\
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f2f2f2}\
pre{background:#f7f7f7;padding:1em;overflow-x:auto;font-size:.8em}\
figure{margin:1.5em 0}figure svg{max-width:100%;height:auto}figcaption{font-size:.85em;color:#555}\
.limits{border:2px solid #c77;background:#fff6f4;padding:.5em 1.2em;margin:1.5em 0}\
.meta{color:#555;font-size:.9em}";

/// A whole page: `title` and body blocks in order.
pub fn page(title: &str, blocks: &[String]) -> String {
    let mut out = String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(&format!(
        "<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(title)
    ));
    out.push_str(&format!("<h1>{}</h1>\n", escape(title)));
    for b in blocks {
        out.push_str(b);
        out.push('\n');
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// A section heading.
pub fn heading(text: &str) -> String {
    format!("<h2>{}</h2>", escape(text))
}

/// A paragraph of plain text.
pub fn para(text: &str) -> String {
    format!("<p class=\"meta\">{}</p>", escape(text))
}

/// Preformatted text.
pub fn pre(text: &str) -> String {
    format!("<pre>{}</pre>", escape(text))
}

/// A table; cells that parse as numbers (after stripping `%`, `$`, `+`, `x`
/// and unit suffixes) are right-aligned.
pub fn table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table>\n<tr>");
    for h in header {
        out.push_str(&format!("<th>{}</th>", escape(h)));
    }
    out.push_str("</tr>\n");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            let numeric = c
                .trim_start_matches(['+', '-', '$', '−'])
                .chars()
                .next()
                .is_some_and(|ch| ch.is_ascii_digit());
            if numeric {
                out.push_str(&format!("<td class=\"n\">{}</td>", escape(c)));
            } else {
                out.push_str(&format!("<td>{}</td>", escape(c)));
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>");
    out
}

/// An inline SVG chart with its caption. The XML declaration, if any, is dropped.
pub fn figure(svg: &str, caption: &str) -> String {
    let body = match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    };
    format!(
        "<figure>\n{body}\n<figcaption>{}</figcaption>\n</figure>",
        escape(caption)
    )
}

/// What every run leaves out, whatever the design.
const LIMITS_COMMON: [&str; 5] = [
    "Orders, exits, liquidations and ADL execute within the step; the step is the keeper latency, so coarse steps can gap past bankruptcy prices.",
    "On the pool designs (JLP, GM, GLV) prices are exogenous: trades and liquidations do not move them.",
    "Trader behaviour is a stationary population (plus scripted orders); it does not react to fees, funding or other traders' losses.",
    "Results are Monte Carlo estimates: means carry standard errors, tail quantiles are noisier with few paths.",
    "The figures are a model's outputs under the scenario's assumptions, not forecasts.",
];

/// The "model and limitations" box for the designs in `kinds` (`jlp`, `gm`, `glv`, `hlp`, `llp`).
pub fn limitations(kinds: &[&str]) -> String {
    let mut items: Vec<&str> = LIMITS_COMMON.to_vec();
    let has = |k: &str| kinds.contains(&k);
    if has("jlp") {
        items.push("JLP: no LP deposits or withdrawals (fixed supply), no limit orders; borrow accrues continuously, not hourly.");
    }
    if has("gm") || has("glv") {
        items.push("GM/GLV: f64 arithmetic without GMX's fixed-point rounding; no virtual inventory across markets; no swap of profit into the collateral token.");
    }
    if has("hlp") || has("llp") {
        items.push("HLP/LLP: no sub-vault strategies or lock-up, no maker fee tiers or rebates, no queue priority or trader limit orders; book depth re-forms every step and does not react to flow within a step.");
    }
    let mut out = String::from("<div class=\"limits\">\n<h2>Model and limitations</h2>\n<ul>\n");
    for i in items {
        out.push_str(&format!("<li>{}</li>\n", escape(i)));
    }
    out.push_str(
        "</ul>\n<p class=\"meta\">The README's \"Model and limitations\" section has the full list.</p>\n</div>",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
    }

    #[test]
    fn figures_drop_the_xml_declaration() {
        let f = figure("<?xml version=\"1.0\"?>\n<svg width=\"1\"></svg>", "x < y");
        assert!(f.starts_with("<figure>\n<svg"));
        assert!(f.contains("x &lt; y"));
    }

    #[test]
    fn numbers_are_right_aligned() {
        let t = table(
            &["a".into()],
            &[vec!["+1.2%".into()], vec!["$3k".into()], vec!["jlp".into()]],
        );
        assert_eq!(t.matches("class=\"n\"").count(), 2);
    }
}
