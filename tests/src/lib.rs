//! Test-only crate: see `cli/`.
