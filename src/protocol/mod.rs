//! The wire format: JSON views of the model, and (in `frames`) the WebSocket frames.

pub mod views;
