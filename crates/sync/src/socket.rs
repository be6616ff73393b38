//! The sync protocol's messages over a WebSocket, the same on both sides.
//!
//! Binary frames carry automerge-repo's CBOR messages; a text frame is a
//! protocol error; a close frame ends the stream. Both sides offer and
//! accept permessage-deflate (RFC 7692), the compression the WebSocket
//! standard allows: an Automerge change repeats its keys and its
//! structure from one entry to the next, and deflate with the window kept
//! from message to message takes most of that away. A peer that does not
//! ask for it (a JS client may not) gets plain frames.
//!
//! Received messages pass through the connection's [`Door`] (the side
//! that receives a peer's writes: the hub, and a tablet syncing with a
//! teammate) before samod sees them. The door's notices to the peer go
//! out on the same socket; the peer's notices are taken out of the
//! stream and kept in [`Notices`].

use std::sync::{Arc, Mutex};

use futures::{Sink, SinkExt, Stream, StreamExt, future};
use tokio::io::{AsyncRead, AsyncWrite};
use yawc::{Frame, OpCode, Options, WebSocket};

use crate::MAX_MESSAGE_BYTES;
use crate::door::{self, Door, Notice, Verdict};
use crate::error::TransportError;

/// The options of every sync WebSocket: deflate, and no message, once
/// inflated, larger than [`MAX_MESSAGE_BYTES`].
pub fn options() -> Options {
    Options::default()
        .with_limits(MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES)
        .with_balanced_compression()
        .with_no_delay()
}

/// The refusals on a connection (see [`crate::door`]): those the other
/// side sent of this side's writes, and those this side's door made of
/// the other's; for the sync to report, and to stop waiting for a
/// document whose changes one side refused.
#[derive(Debug, Clone, Default)]
pub struct Notices(Arc<(Mutex<Refusals>, tokio::sync::Notify)>);

#[derive(Debug, Default)]
struct Refusals {
    theirs: Vec<Notice>,
    ours: Vec<Notice>,
}

impl Notices {
    fn record(&self, notice: Notice, ours: bool) {
        let mut refusals = self.0.0.lock().unwrap_or_else(|p| p.into_inner());
        if ours {
            refusals.ours.push(notice);
        } else {
            refusals.theirs.push(notice);
        }
        drop(refusals);
        self.0.1.notify_waiters();
    }

    /// What the other side refused of this side's writes.
    pub fn all(&self) -> Vec<Notice> {
        let refusals = self.0.0.lock().unwrap_or_else(|p| p.into_inner());
        refusals.theirs.clone()
    }

    /// What this side refused of the other's writes.
    pub fn refused_here(&self) -> Vec<Notice> {
        let refusals = self.0.0.lock().unwrap_or_else(|p| p.into_inner());
        refusals.ours.clone()
    }

    /// A refusal of the whole connection, if one came.
    pub fn closing(&self) -> Option<Notice> {
        self.all().into_iter().find(|n| n.document.is_none())
    }

    /// Resolves with a notice refusing changes to `document`, by either
    /// side, once one comes.
    pub async fn refused(&self, document: &str) -> Notice {
        loop {
            let notified = self.0.1.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let found = self
                .all()
                .into_iter()
                .chain(self.refused_here())
                .find(|n| n.document.as_deref() == Some(document));
            if let Some(notice) = found {
                return notice;
            }
            notified.await;
        }
    }
}

/// The stream of received messages and the sink of messages to send, as
/// samod's [`samod::Transport`] takes them. `door`: the checks of the
/// peer's writes, on the side that receives them.
pub fn messages<S>(
    socket: WebSocket<S>,
    door: Option<Door>,
    notices: Notices,
) -> (
    impl Stream<Item = Result<Vec<u8>, TransportError>> + Send + Unpin + 'static,
    impl Sink<Vec<u8>, Error = TransportError> + Send + Unpin + 'static,
)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (ws_sink, ws_stream) = socket.split();
    // One writer for samod's messages and the door's notices.
    let (out, to_send) = futures::channel::mpsc::channel::<Vec<u8>>(16);
    tokio::spawn(async move {
        let frames = to_send.map(|bytes: Vec<u8>| {
            crate::metrics::metrics().sent(bytes.len());
            Ok(Frame::binary(bytes))
        });
        if let Err(e) = frames.forward(ws_sink).await {
            tracing::debug!(error = %e, "sync socket closed while sending");
        }
    });
    let frames = ws_stream
        .take_while(|frame| future::ready(frame.opcode() != OpCode::Close))
        .filter_map(|frame| {
            future::ready(match frame.opcode() {
                OpCode::Binary => {
                    let payload = frame.into_payload().to_vec();
                    crate::metrics::metrics().received(payload.len());
                    Some(Ok(payload))
                }
                OpCode::Text => Some(Err(TransportError(
                    "text frame: the sync protocol speaks binary frames only".into(),
                ))),
                _ => None,
            })
        });
    let state = Inbound {
        frames: Box::pin(frames),
        door,
        notices,
        out: out.clone(),
        ended: false,
    };
    let stream = futures::stream::unfold(state, |mut state| async move {
        let item = state.next().await?;
        Some((item, state))
    });
    let sink = out.sink_map_err(|_| TransportError("the connection is closed".into()));
    (Box::pin(stream), sink)
}

struct Inbound<F> {
    frames: std::pin::Pin<Box<F>>,
    door: Option<Door>,
    notices: Notices,
    out: futures::channel::mpsc::Sender<Vec<u8>>,
    ended: bool,
}

impl<F> Inbound<F>
where
    F: Stream<Item = Result<Vec<u8>, TransportError>>,
{
    /// The next message for samod, past notices and refused messages.
    async fn next(&mut self) -> Option<Result<Vec<u8>, TransportError>> {
        if self.ended {
            return None;
        }
        loop {
            let bytes = match self.frames.next().await? {
                Ok(bytes) => bytes,
                Err(e) => return Some(Err(e)),
            };
            // Read once: the notices, the door and the bounds share it.
            let verdict = match door::envelope(&bytes) {
                Ok(e) if e.kind == door::NOTICE_TYPE => {
                    let notice = Notice {
                        document: e.document,
                        code: e.code.unwrap_or_default(),
                        message: e.message.unwrap_or_default(),
                    };
                    tracing::warn!(
                        document = notice.document.as_deref().unwrap_or("-"),
                        code = %notice.code,
                        "the other side refused: {}", notice.message
                    );
                    self.notices.record(notice, false);
                    continue;
                }
                envelope => match &mut self.door {
                    Some(door) => door.check(envelope).await,
                    // A device receiving from its server: only the bounds.
                    None => match envelope.as_ref().map(door::bounded_envelope) {
                        Ok(Err(notice)) => Verdict::Close(notice),
                        _ => Verdict::Pass,
                    },
                },
            };
            match verdict {
                Verdict::Pass => return Some(Ok(bytes)),
                Verdict::PassWith(data) => {
                    match maraude_core::wire::envelope::with_data(&bytes, &data) {
                        Ok(message) => return Some(Ok(message)),
                        // The door read this envelope already.
                        Err(e) => return Some(Err(TransportError(e.to_string()))),
                    }
                }
                Verdict::Ask(message) => {
                    let _ = self.out.send(message).await;
                }
                Verdict::Drop => continue,
                Verdict::Refuse(notice) => {
                    let _ = self.out.send(notice.encode()).await;
                    self.notices.record(notice, true);
                }
                Verdict::Close(notice) => {
                    if self.door.is_some() {
                        let _ = self.out.send(notice.encode()).await;
                    }
                    self.ended = true;
                    return Some(Err(TransportError(format!(
                        "refused ({}): {}",
                        notice.code, notice.message
                    ))));
                }
            }
        }
    }
}
