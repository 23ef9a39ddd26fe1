//! Helpers of this crate's integration tests.
pub mod private_ca;
