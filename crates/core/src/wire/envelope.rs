//! The automerge-repo message around a sync message: a CBOR map of named
//! fields (`type`, `senderId`, `targetId`, `documentId`, `data`, …), read
//! here as samod-core reads it, before samod does.
//!
//! A field given twice is refused: samod keeps the last one, and a reader
//! that kept the first could be shown one message while samod acts on
//! another.

use std::collections::BTreeSet;

use thiserror::Error;

/// The document a message is about, as the sender wrote its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentRef<'a> {
    /// The bs58check string automerge-repo uses.
    Text(&'a str),
    /// The raw bytes some clients send.
    Bytes(&'a [u8]),
}

/// The fields of a message that the receiver's checks read; the others
/// are skipped (samod reads them).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub kind: &'a str,
    pub document: Option<DocumentRef<'a>>,
    /// Who sent it and to whom (automerge-repo peer ids).
    pub sender: Option<&'a str>,
    pub target: Option<&'a str>,
    /// The Automerge sync message of a `sync` or `request` message.
    pub data: Option<&'a [u8]>,
    /// A refusal notice's code and sentence.
    pub code: Option<&'a str>,
    pub message: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EnvelopeError {
    #[error("not an automerge-repo message: {0}")]
    Unreadable(String),
    #[error("not an automerge-repo message: a map of unknown length")]
    UnknownLength,
    #[error("the field \"{0}\" is given twice")]
    Twice(String),
}

/// Read the fields of an automerge-repo message.
pub fn envelope(bytes: &[u8]) -> Result<Envelope<'_>, EnvelopeError> {
    let mut d = minicbor::Decoder::new(bytes);
    let bad = |e: minicbor::decode::Error| EnvelopeError::Unreadable(e.to_string());
    let len = d.map().map_err(bad)?.ok_or(EnvelopeError::UnknownLength)?;
    let mut out = Envelope::default();
    let mut seen = BTreeSet::new();
    for _ in 0..len {
        let key = d.str().map_err(bad)?;
        if !seen.insert(key) {
            return Err(EnvelopeError::Twice(key.chars().take(40).collect()));
        }
        match key {
            "type" => out.kind = d.str().map_err(bad)?,
            "documentId" if d.probe().str().is_ok() => {
                out.document = Some(DocumentRef::Text(d.str().map_err(bad)?));
            }
            "documentId" => out.document = Some(DocumentRef::Bytes(d.bytes().map_err(bad)?)),
            "senderId" => out.sender = Some(d.str().map_err(bad)?),
            "targetId" => out.target = Some(d.str().map_err(bad)?),
            "data" => out.data = Some(d.bytes().map_err(bad)?),
            "code" => out.code = Some(d.str().map_err(bad)?),
            "message" => out.message = Some(d.str().map_err(bad)?),
            _ => d.skip().map_err(bad)?,
        }
    }
    Ok(out)
}

/// The same message with its `data` replaced, every other field as the
/// sender wrote it (the receiver passes on a sync message whose changes it
/// completed, see `maraude_sync::door`).
pub fn with_data(bytes: &[u8], data: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    envelope(bytes)?;
    let mut d = minicbor::Decoder::new(bytes);
    let bad = |e: minicbor::decode::Error| EnvelopeError::Unreadable(e.to_string());
    let len = d.map().map_err(bad)?.ok_or(EnvelopeError::UnknownLength)?;
    let mut out = minicbor::Encoder::new(Vec::with_capacity(bytes.len() + data.len()));
    // Writing into a Vec cannot fail.
    let _ = out.map(len);
    for _ in 0..len {
        let key = d.str().map_err(bad)?;
        let _ = out.str(key);
        let start = d.position();
        d.skip().map_err(bad)?;
        if key == "data" {
            let _ = out.bytes(data);
        } else {
            out.writer_mut()
                .extend_from_slice(&bytes[start..d.position()]);
        }
    }
    Ok(out.into_writer())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(fields: &[(&str, &str)]) -> Vec<u8> {
        let mut e = minicbor::Encoder::new(Vec::new());
        e.map(fields.len() as u64).unwrap();
        for (k, v) in fields {
            e.str(k).unwrap().str(v).unwrap();
        }
        e.into_writer()
    }

    #[test]
    fn a_field_given_twice_is_refused_so_that_samod_cannot_read_another_message() {
        let twice = message(&[("type", "sync"), ("type", "request")]);
        assert_eq!(envelope(&twice), Err(EnvelopeError::Twice("type".into())));
        let once = message(&[
            ("type", "sync"),
            ("senderId", "device-x"),
            ("documentId", "2xF"),
        ]);
        let read = envelope(&once).unwrap();
        assert_eq!(read.kind, "sync");
        assert_eq!(read.document, Some(DocumentRef::Text("2xF")));
        assert!(envelope(b"\xff\x00garbage").is_err());
        assert_eq!(read.sender, Some("device-x"));
        assert_eq!(envelope(b"\xbf\xff"), Err(EnvelopeError::UnknownLength));
    }

    #[test]
    fn a_message_with_new_data_keeps_every_other_field_as_sent() {
        let mut e = minicbor::Encoder::new(Vec::new());
        e.map(5).unwrap();
        e.str("type").unwrap().str("sync").unwrap();
        e.str("documentId").unwrap().bytes(&[7; 16]).unwrap();
        e.str("senderId").unwrap().str("device-a").unwrap();
        e.str("data").unwrap().bytes(b"old").unwrap();
        e.str("targetId").unwrap().str("server-b").unwrap();
        let sent = e.into_writer();
        let rewritten = with_data(&sent, b"new changes").unwrap();
        let read = envelope(&rewritten).unwrap();
        assert_eq!(read.kind, "sync");
        assert_eq!(read.document, Some(DocumentRef::Bytes(&[7; 16])));
        assert_eq!(read.sender, Some("device-a"));
        assert_eq!(read.target, Some("server-b"));
        assert_eq!(read.data, Some(&b"new changes"[..]));
        assert!(with_data(b"\xff\x00garbage", b"x").is_err());
    }
}
