//! Crash injection for the convergence tests: `SHIPGATE_FAILPOINT=after-files` (or
//! `after-commit`, `after-tag`, `after-snapshot-files`, `after-snapshot-commit`) ends the
//! process abruptly at that step, as a kill would.

pub(crate) fn hit(step: &str) {
    if std::env::var("SHIPGATE_FAILPOINT").is_ok_and(|v| v == step) {
        eprintln!("shipgate: failpoint {step}: exiting abruptly");
        std::process::abort();
    }
}
