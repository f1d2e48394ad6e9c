//! The wire format: JSON views of the model (`views`), the WebSocket frames (`frames`) and how
//! JSON input is parsed (`json`).

pub mod frames;
pub mod json;
pub mod views;
// Issue 14: notification settings.
pub mod notify;
