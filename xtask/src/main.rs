//! The repository's chores, run as `cargo xtask <task>` (an alias in `.cargo/config.toml`):
//!
//! - `gen-errors`: writes every host's error classes from the core's table of error kinds
//!   (`core/src/error/kinds.rs`).
//! - `check-errors`: writes nothing; fails, naming each file, when a committed file differs from
//!   what `gen-errors` would write (CI runs it).

mod errors;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// One file `gen-errors` owns: the whole of it, or the lines between two marker lines.
pub enum Output {
    /// The whole file.
    Whole { path: &'static str, text: String },
    /// The lines strictly between the line containing `begin` and the next containing `end`;
    /// the rest of the file is written by hand.
    Region { path: &'static str, begin: &'static str, end: &'static str, text: String },
}

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask/ sits in the repository").to_path_buf();
    let result = match task.as_str() {
        "gen-errors" => generate(&root, &errors::outputs()),
        "check-errors" => check(&root, &errors::outputs()),
        _ => Err("usage: cargo xtask gen-errors | check-errors".to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// What `path` should hold: the generated text, spliced into the file for a region.
fn expected(root: &Path, output: &Output) -> Result<(PathBuf, String), String> {
    match output {
        Output::Whole { path, text } => Ok((root.join(path), text.clone())),
        Output::Region { path, begin, end, text } => {
            let file = root.join(path);
            let current = std::fs::read_to_string(&file).map_err(|e| format!("{path}: {e}"))?;
            let lines: Vec<&str> = current.split_inclusive('\n').collect();
            let start = lines.iter().position(|l| l.contains(begin)).ok_or_else(|| format!("{path}: no line containing `{begin}`"))?;
            let stop = start
                + 1
                + lines[start + 1..].iter().position(|l| l.contains(end)).ok_or_else(|| format!("{path}: no line containing `{end}`"))?;
            Ok((file, format!("{}{}{}", lines[..=start].concat(), text, lines[stop..].concat())))
        }
    }
}

fn generate(root: &Path, outputs: &[Output]) -> Result<(), String> {
    for output in outputs {
        let (file, text) = expected(root, output)?;
        if std::fs::read_to_string(&file).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
            println!("xtask: wrote {}", file.strip_prefix(root).unwrap_or(&file).display());
        }
    }
    Ok(())
}

fn check(root: &Path, outputs: &[Output]) -> Result<(), String> {
    let mut stale = Vec::new();
    for output in outputs {
        let (file, text) = expected(root, output)?;
        if std::fs::read_to_string(&file).ok().as_deref() != Some(text.as_str()) {
            stale.push(file.strip_prefix(root).unwrap_or(&file).display().to_string());
        }
    }
    if stale.is_empty() {
        return Ok(());
    }
    Err(format!(
        "generated from core/src/error/kinds.rs but edited or stale: {}; run `cargo xtask gen-errors` and commit the result",
        stale.join(", ")
    ))
}
