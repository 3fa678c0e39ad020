//! Ranking tools for a use case: Okapi BM25 over each tool's slug, name, description,
//! tags, parameter names and toolkit.

use std::collections::HashMap;

use crate::catalog::ToolDef;

/// BM25 term-frequency saturation.
const K1: f64 = 1.2;
/// BM25 length normalisation.
const B: f64 = 0.75;

/// Words that carry no meaning for ranking.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "i", "in", "into", "is", "it", "its", "me", "my",
    "of", "on", "or", "that", "the", "their", "this", "to", "with", "want", "need", "please", "can", "you", "do",
];

/// The words of a text, lower-cased, split on anything but letters and digits, with a
/// light plural stemming so "issues" finds "issue".
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| stem(&w.to_lowercase()))
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .collect()
}

fn stem(w: &str) -> String {
    if w.len() > 4 && w.ends_with("ies") {
        return format!("{}y", &w[..w.len() - 3]);
    }
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
        return w[..w.len() - 1].to_string();
    }
    w.to_string()
}

/// The searchable text of a tool; `toolkit_name` adds e.g. "Google Calendar".
fn document(tool: &ToolDef, toolkit_name: &str) -> Vec<String> {
    let params: Vec<&str> = tool.params.iter().map(|p| p.name.as_str()).collect();
    words(&format!(
        "{} {} {} {} {} {} {}",
        tool.slug,
        tool.name,
        tool.description,
        tool.tags.join(" "),
        params.join(" "),
        tool.toolkit,
        toolkit_name
    ))
}

/// Ranks `tools` for `query`, best first; tools sharing no word with the query are left out.
/// `toolkit_name` gives a toolkit's display name.
pub(crate) fn rank<'a>(query: &str, tools: &[&'a ToolDef], toolkit_name: impl Fn(&str) -> String) -> Vec<(&'a ToolDef, f64)> {
    let terms = words(query);
    if terms.is_empty() || tools.is_empty() {
        return vec![];
    }
    let docs: Vec<Vec<String>> = tools.iter().map(|t| document(t, &toolkit_name(&t.toolkit))).collect();
    let n = docs.len() as f64;
    let avg_len = docs.iter().map(Vec::len).sum::<usize>() as f64 / n;
    let mut df: HashMap<&str, f64> = HashMap::new();
    for d in &docs {
        let mut seen: Vec<&str> = d.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for w in seen {
            *df.entry(w).or_default() += 1.0;
        }
    }
    let mut scored: Vec<(&ToolDef, f64)> = tools
        .iter()
        .zip(&docs)
        .map(|(t, d)| {
            let len = d.len() as f64;
            let score: f64 = terms
                .iter()
                .map(|term| {
                    let tf = d.iter().filter(|w| *w == term).count() as f64;
                    if tf == 0.0 {
                        return 0.0;
                    }
                    let df = df.get(term.as_str()).copied().unwrap_or(0.0);
                    let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                    idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / avg_len))
                })
                .sum();
            (*t, score)
        })
        .filter(|(_, s)| *s > 0.0)
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.slug.cmp(&b.0.slug)));
    scored
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    fn top(query: &str) -> Vec<String> {
        let c = Catalog::builtin();
        let tools: Vec<&ToolDef> = c.tools().collect();
        let name = |slug: &str| c.get(slug).map(|t| t.name.clone()).unwrap_or_default();
        rank(query, &tools, name).into_iter().take(3).map(|(t, _)| t.slug.clone()).collect()
    }

    #[test]
    fn the_obvious_tool_ranks_first() {
        assert_eq!(top("open a bug report issue on github")[0], "GITHUB_CREATE_AN_ISSUE");
        assert_eq!(top("send a message to the team slack channel")[0], "SLACK_SEND_MESSAGE");
        assert_eq!(top("find unread emails from alice")[0], "GMAIL_FETCH_EMAILS");
        assert!(top("who am i on gitlab").contains(&"GITLAB_GET_CURRENT_USER".to_string()));
    }

    #[test]
    fn a_query_of_stop_words_or_unknown_words_finds_nothing() {
        assert!(top("the and of").is_empty());
        assert!(top("zzzqqq").is_empty());
    }
}
