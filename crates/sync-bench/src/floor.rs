//! The physical floor of a sync: the entries each side did not have, as
//! JSON and as gzip'ed JSON. Whatever the protocol, those bytes had to
//! cross.

use std::collections::HashMap;
use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use maraude_core::entry::Entry;
use maraude_core::ids::EntryId;

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Floor {
    pub entries: usize,
    pub json: u64,
    pub gzip: u64,
}

impl Floor {
    /// Add what one side received: `after` less what it had `before`.
    pub fn received(&mut self, before: &HashMap<EntryId, Entry>, after: &HashMap<EntryId, Entry>) {
        let new: Vec<&Entry> = after
            .iter()
            .filter(|(id, _)| !before.contains_key(id))
            .map(|(_, e)| e)
            .collect();
        self.add(&new);
    }

    pub fn add(&mut self, entries: &[&Entry]) {
        if entries.is_empty() {
            return;
        }
        let json = serde_json::to_vec(entries).expect("entries serialise");
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(&json).expect("in memory");
        let gzip = gz.finish().expect("in memory");
        self.entries += entries.len();
        self.json += json.len() as u64;
        self.gzip += gzip.len() as u64;
    }
}
