//! Printing: a short human line, or JSON with `--json`.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::Ctx;

/// A command that changed something: say what, or print its record.
pub fn done<T: Serialize>(ctx: &Ctx, human: &str, record: &T) -> Result<()> {
    if ctx.json {
        print(&format!("{}\n", serde_json::to_string_pretty(record)?))
    } else {
        print(&format!("{human}\n"))
    }
}

/// A listing: JSON, or the text the caller rendered.
pub fn show<T: Serialize>(ctx: &Ctx, record: &T, human: impl FnOnce() -> String) -> Result<()> {
    if ctx.json {
        print(&format!("{}\n", serde_json::to_string_pretty(record)?))
    } else {
        print(&human())
    }
}

/// Write `text` to stdout. A reader that stopped early (`maraude … | head`)
/// is not an error: what it read was right, and nothing else is to be done.
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
