//! What the AWS sections (`[canary.cloudwatch]`, `[canary.alb]`, `sigv4`) share: the shape
//! of a region, checked before anything is sent.

/// Whether `region` looks like an AWS region (`eu-west-1`, `us-gov-west-1`): lower-case
/// letters, digits and dashes, starting with a letter, at most 30 characters.
pub fn is_region(region: &str) -> bool {
    let mut chars = region.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && region.len() <= 30
        && region.contains('-')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}
