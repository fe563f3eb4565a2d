//! An error and its causes as one line for the user: `outer: cause: root`, each cause once (a cause
//! whose text its parent's message already holds is not repeated).

/// The error's message followed by those of its causes that add something.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    let mut parent = out.clone();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !parent.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        parent = text;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_is_named_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let data = amr_core::DataError::io("runs/x/config.toml", io);
        // The data error's message holds the OS message, which is also its source.
        assert!(std::error::Error::source(&data).is_some());
        let e = anyhow::Error::new(data).context("run.data = x");
        assert_eq!(error_text(&e), "run.data = x: runs/x/config.toml: no such file");
    }
}
