//! Printing: a short human line, or JSON with `--json`.

use anyhow::Result;
use serde::Serialize;

use crate::Ctx;

/// A command that changed something: say what, or print its record.
pub fn done<T: Serialize>(ctx: &Ctx, human: &str, record: &T) -> Result<()> {
    if ctx.json {
        println!("{}", serde_json::to_string_pretty(record)?);
    } else {
        println!("{human}");
    }
    Ok(())
}

/// A listing: JSON, or the text the caller rendered.
pub fn show<T: Serialize>(ctx: &Ctx, record: &T, human: impl FnOnce() -> String) -> Result<()> {
    if ctx.json {
        println!("{}", serde_json::to_string_pretty(record)?);
    } else {
        print!("{}", human());
    }
    Ok(())
}
