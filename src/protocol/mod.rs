//! The wire format: JSON views of the model (`views`) and the WebSocket frames (`frames`).

pub mod frames;
pub mod views;
