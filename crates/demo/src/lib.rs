//! Demo seasons (being written).
