//! `promote --pr`: the environment's change pushed to a branch of its own and a pull
//! request opened with every gate in its body; the ledger records the promotion once the
//! pull request is merged and `promote` runs again (the files then already say so).

use jiff::Timestamp;
use shipgate_git::{Expect, Oid, PushOutcome, RefUpdate};

use super::files::FileEdit;
use super::{Context, OpError};
use crate::entry::Gate;
use crate::targets::Place;

/// Opens the pull request that promotes `version` to `env` with `edits` on `base`: its
/// address.
pub(super) fn open_pull_request(
    ctx: &Context<'_>,
    version: &str,
    env: &str,
    base: Oid,
    edits: &[FileEdit],
    gates: &[Gate],
) -> Result<String, OpError> {
    let gh = ctx.github.ok_or(OpError::NoGithub)?;
    let remote = ctx.remote().ok_or(OpError::NoRemote)?;
    let places = ctx.places(env);
    let title = format!("chore(promote): {version} to {env}");
    let changed: Vec<(String, Option<Vec<u8>>)> = edits
        .iter()
        .map(|e| (e.file.clone(), Some(e.new.as_bytes().to_vec())))
        .collect();
    let commit = ctx.repo.make_commit(
        &[base],
        Some(base),
        &changed,
        &format!(
            "{title}\n\nshipgate promote {version} --to {env} --pr by {}\n",
            ctx.who
        ),
    )?;
    let head = branch(version, env);
    let pushed = ctx.repo.push_cas(
        remote,
        &[RefUpdate {
            new: Some(commit),
            dst: format!("refs/heads/{head}"),
            expect: Expect::Replace,
        }],
    )?;
    if let PushOutcome::Moved { refs } = pushed {
        return Err(OpError::Raced { attempts: 1, refs });
    }
    let body = body(version, env, &places, gates, &ctx.who, ctx.now);
    gh.pull_request(&head, &ctx.settings.branch, &title, &body)
        .map_err(OpError::Github)
}

/// The pull request's branch.
fn branch(version: &str, env: &str) -> String {
    format!("shipgate/promote/{env}/{version}")
}

/// The pull request's body: what it sets where, a table of the gates with their evidence,
/// who asked and when, and what to run after the merge.
fn body(
    version: &str,
    env: &str,
    places: &[Place],
    gates: &[Gate],
    who: &str,
    now: Timestamp,
) -> String {
    let sets: Vec<String> = places
        .iter()
        .map(|p| format!("`{}` sets `{}`", p.file, p.key))
        .collect();
    let mut body = format!(
        "Promotes **{version}** to **{env}**: {}.\n\n| gate | | evidence |\n|---|---|---|\n",
        sets.join(", ")
    );
    for g in gates {
        let _ = std::fmt::Write::write_fmt(
            &mut body,
            format_args!(
                "| {} | {} | {} |\n",
                g.name,
                if g.passed { "pass" } else { "**fail**" },
                g.detail.replace('|', "\\|").replace('\n', " ")
            ),
        );
    }
    body.push_str(&format!(
        "\nAsked by {who} at {now}. After the merge, `shipgate promote {version} --to {env} --push` records the promotion in the ledger (the file already says so: no new commit).\n"
    ));
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(file: &str, key: &str) -> Place {
        Place {
            file: file.into(),
            key: key.into(),
            template: "{{version}}".into(),
            shorthand: false,
        }
    }

    fn gate(name: &str, passed: bool, detail: &str) -> Gate {
        Gate {
            name: name.into(),
            passed,
            detail: detail.into(),
        }
    }

    #[test]
    fn the_branch_is_per_environment_and_version() {
        assert_eq!(branch("1.4.0", "prod"), "shipgate/promote/prod/1.4.0");
    }

    #[test]
    fn the_body_lists_the_places_and_every_gate_with_its_evidence() {
        let places = [
            place("deploy/prod/kustomization.yaml", "images[name=app].newTag"),
            place("charts/app/values-prod.yaml", "image.tag"),
        ];
        let gates = [
            gate("order", true, "1.4.0 passed in staging"),
            gate(
                "approvals",
                false,
                "1 of 2 | needs another\nfrom someone else",
            ),
        ];
        let now: Timestamp = "2025-03-04T10:00:00Z".parse().expect("time");
        assert_eq!(
            body("1.4.0", "prod", &places, &gates, "alice", now),
            "Promotes **1.4.0** to **prod**: `deploy/prod/kustomization.yaml` sets \
             `images[name=app].newTag`, `charts/app/values-prod.yaml` sets `image.tag`.\n\n\
             | gate | | evidence |\n|---|---|---|\n\
             | order | pass | 1.4.0 passed in staging |\n\
             | approvals | **fail** | 1 of 2 \\| needs another from someone else |\n\
             \nAsked by alice at 2025-03-04T10:00:00Z. After the merge, `shipgate promote \
             1.4.0 --to prod --push` records the promotion in the ledger (the file already \
             says so: no new commit).\n"
        );
    }
}
