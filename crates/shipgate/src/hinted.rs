//! The front end's own errors with a hint: one line of what went wrong, the hint as data,
//! printed on its own line by [`crate::cli::report_error`].

/// An error of the front end itself, with what to do about it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Hinted {
    /// What went wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

/// `message` with `hint`, as an `anyhow::Error`.
pub fn hinted(message: String, hint: &str) -> anyhow::Error {
    anyhow::Error::new(Hinted {
        message,
        hint: hint.to_string(),
    })
}
