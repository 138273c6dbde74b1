//! "Did you mean ...?": the known words nearest to a misspelt one.

/// Up to three of `known` closest to `word`, best first: a few edits away
/// (transpositions count as one), or sharing most of their start.
pub fn nearest<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let max_edits = 1 + word.chars().count() / 5;
    let mut scored: Vec<(usize, f64, &str)> = known
        .into_iter()
        .map(|k| {
            (
                strsim::osa_distance(word, k),
                strsim::jaro_winkler(word, k),
                k,
            )
        })
        .filter(|(edits, similar, _)| *edits <= max_edits || *similar >= 0.9)
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)).then(a.2.cmp(b.2)));
    scored.into_iter().take(3).map(|(_, _, k)| k).collect()
}

/// `" (did you mean a, b?)"`, or nothing when no known word is close.
pub fn did_you_mean<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let near = nearest(word, known);
    if near.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", near.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words_only() {
        assert_eq!(nearest("subent", ["vpc", "subnet", "instance"]), ["subnet"]);
        assert_eq!(
            did_you_mean("vcp", ["vpc", "subnet"]),
            " (did you mean vpc?)"
        );
        assert_eq!(did_you_mean("zzz", ["vpc", "subnet"]), "");
    }
}
