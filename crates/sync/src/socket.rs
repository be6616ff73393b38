//! The sync protocol's messages over a WebSocket, the same on both sides.
//!
//! Binary frames carry automerge-repo's CBOR messages; a text frame is a
//! protocol error; a close frame ends the stream. Both sides offer and
//! accept permessage-deflate (RFC 7692), the compression the WebSocket
//! standard allows: an Automerge change repeats its keys and its
//! structure from one entry to the next, and deflate with the window kept
//! from message to message takes most of that away. A peer that does not
//! ask for it (a JS client may not) gets plain frames.

use futures::{Sink, SinkExt, Stream, StreamExt, future};
use tokio::io::{AsyncRead, AsyncWrite};
use yawc::{Frame, OpCode, Options, WebSocket};

use crate::MAX_MESSAGE_BYTES;
use crate::error::TransportError;

/// The options of every sync WebSocket: deflate, and no message, once
/// inflated, larger than [`MAX_MESSAGE_BYTES`].
pub fn options() -> Options {
    Options::default()
        .with_limits(MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES)
        .with_balanced_compression()
        .with_no_delay()
}

/// The stream of received messages and the sink of messages to send, as
/// samod's [`samod::Transport`] takes them.
pub fn messages<S>(
    socket: WebSocket<S>,
) -> (
    impl Stream<Item = Result<Vec<u8>, TransportError>> + Send + Unpin + 'static,
    impl Sink<Vec<u8>, Error = TransportError> + Send + Unpin + 'static,
)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (sink, stream) = socket.split();
    let stream = stream
        .take_while(|frame| future::ready(frame.opcode() != OpCode::Close))
        .filter_map(|frame| {
            future::ready(match frame.opcode() {
                OpCode::Binary => Some(Ok(frame.into_payload().to_vec())),
                OpCode::Text => Some(Err(TransportError(
                    "text frame: the sync protocol speaks binary frames only".into(),
                ))),
                _ => None,
            })
        });
    let sink = sink
        .sink_map_err(|e| TransportError(e.to_string()))
        .with(|bytes: Vec<u8>| future::ready(Ok(Frame::binary(bytes))));
    (stream, sink)
}
