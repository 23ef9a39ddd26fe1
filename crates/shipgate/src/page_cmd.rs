//! `shipgate page --out DIR`: the status page, a static site from the ledger (after a fetch
//! of the remote's), the changelog's sections and, when given, the canaries' recordings.
//! The site is built in a directory beside DIR and put in its place whole: a reader sees
//! the old site or the new one, never half of one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use shipgate_canary::Marker;
use shipgate_judge::record::Recording;
use shipgate_pipeline::review;

use crate::cli::{Global, Hinted, hinted};
use crate::page::{self, Report, Site};
use crate::pipeline_io::open;

/// The file that marks a directory as a site `shipgate page` wrote (and may replace).
const MARKER: &str = ".shipgate-page";

/// `page --json`: the site written (on one line).
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Written {
    /// The site's directory (`--out`).
    pub out: String,
    /// The files written.
    pub files: usize,
    /// Their size, bytes.
    pub bytes: usize,
    /// The ledger entries the site shows.
    pub entries: usize,
    /// The canary reports drawn (`--recordings`).
    pub reports: usize,
}

#[derive(Debug, Args)]
pub struct PageArgs {
    /// The directory to write the site to (replaced whole: empty, absent, or a site this
    /// command wrote before)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// A directory of canary recordings (`canary run --record FILE`, `*.json`): a report
    /// with charts for each
    #[arg(long, value_name = "DIR")]
    pub recordings: Option<PathBuf>,
    /// The site's name (default: GITHUB_REPOSITORY, else the repository's directory name)
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// How far back a rollback or a failed verification makes a promotion rework, as in
    /// `shipgate metrics`
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub rework_window: String,
}

pub fn run(global: &Global, args: &PageArgs) -> anyhow::Result<ExitCode> {
    let rework_window = shipgate_stdx::duration::HumanDuration::parse(&args.rework_window)
        .with_context(|| format!("--rework-window {}", args.rework_window))?
        .0;
    check_out(&args.out)?;
    // Recordings are read (and refused) before the ledger is.
    let reports = match &args.recordings {
        Some(dir) => reports(dir)?,
        None => Vec::new(),
    };
    let pipeline = open(global)?;
    let status = shipgate_pipeline::views::status(&pipeline, None)?;
    let journal = shipgate_pipeline::views::journal(&pipeline)?;
    let changelog = changelog(&pipeline);
    let title = args
        .title
        .clone()
        .or_else(|| std::env::var("GITHUB_REPOSITORY").ok())
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| repo_name(&global.repo));
    let order = &pipeline.settings.environments.order;
    let approvals = order
        .iter()
        .map(|e| (e.clone(), pipeline.promote.for_env(e).approvals))
        .collect();
    let site = Site {
        title: &title,
        generated_at: pipeline.stamp.now,
        order,
        status: &status,
        entries: &journal.entries,
        months: &journal.months,
        approvals,
        rework_window_s: i64::try_from(rework_window.as_secs()).unwrap_or(i64::MAX),
        changelog,
        reports,
    };
    let files = page::render(&site);
    let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
    let count = files.len();
    write_site(&args.out, &files)?;
    let (entries, reports) = (journal.entries.len(), site.reports.len());
    // The process ends here: a few hundred MB of strings need not be freed one by one.
    std::mem::forget(files);
    std::mem::forget(site);
    std::mem::forget(journal);
    if global.json {
        let out = Written {
            out: args.out.display().to_string(),
            files: count,
            bytes,
            entries,
            reports,
        };
        // One line, keys in alphabetical order: as it was printed before it had a type.
        crate::actions::outln!("{}", serde_json::to_value(&out)?);
    } else {
        crate::actions::outln!(
            "wrote {} ({count} files, {:.1} MB) from {} ledger entries; open {}",
            args.out.display(),
            bytes as f64 / 1e6,
            entries,
            args.out.join("index.html").display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The repository's directory name.
fn repo_name(repo: &Path) -> String {
    std::fs::canonicalize(repo)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "shipgate".into())
}

/// DIR may be absent, empty, or a site this command wrote; anything else is someone's.
fn check_out(out: &Path) -> anyhow::Result<()> {
    let Ok(meta) = out.symlink_metadata() else {
        return Ok(());
    };
    let refuse = |why: &str| {
        hinted(
            format!("--out {}: {why}", out.display()),
            "give an empty or absent directory, or one `shipgate page` wrote before (it has a .shipgate-page file)",
        )
    };
    if !meta.is_dir() {
        return Err(refuse("is not a directory"));
    }
    if out.join(MARKER).is_file() {
        return Ok(());
    }
    let mut entries =
        std::fs::read_dir(out).with_context(|| format!("cannot read {}", out.display()))?;
    if entries.next().is_some() {
        return Err(refuse(
            "has files that `shipgate page` did not write, and it replaces the whole directory",
        ));
    }
    Ok(())
}

/// Writes the files into a new directory beside `out`, then puts it in `out`'s place.
fn write_site(out: &Path, files: &[page::File]) -> anyhow::Result<()> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "site".into());
    let pid = std::process::id();
    let fresh = parent.join(format!(".{name}.shipgate-new-{pid}"));
    let old = parent.join(format!(".{name}.shipgate-old-{pid}"));
    let _ = std::fs::remove_dir_all(&fresh);
    let written = (|| -> std::io::Result<()> {
        std::fs::create_dir(&fresh)?;
        let dirs: std::collections::BTreeSet<PathBuf> = files
            .iter()
            .filter_map(|f| fresh.join(&f.path).parent().map(Path::to_path_buf))
            .collect();
        for dir in dirs {
            std::fs::create_dir_all(dir)?;
        }
        // Two writers, one per core.
        let (one, two) = files.split_at(files.len() / 2);
        let write = |part: &[page::File]| -> std::io::Result<()> {
            for f in part {
                std::fs::write(fresh.join(&f.path), &f.bytes)?;
            }
            Ok(())
        };
        std::thread::scope(|s| {
            let other = s.spawn(|| write(two));
            let mine = write(one);
            match other.join() {
                Ok(theirs) => mine.and(theirs),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })?;
        std::fs::write(
            fresh.join(MARKER),
            "written by `shipgate page`; the whole directory is replaced by the next run\n",
        )
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&fresh);
        return Err(
            anyhow::Error::new(e).context(format!("cannot write the site in {}", parent.display()))
        );
    }
    let had = out.exists();
    if had {
        std::fs::rename(out, &old)
            .with_context(|| format!("cannot move the old site {} aside", out.display()))?;
    }
    if let Err(e) = std::fs::rename(&fresh, out) {
        if had {
            let _ = std::fs::rename(&old, out);
        }
        let _ = std::fs::remove_dir_all(&fresh);
        return Err(
            anyhow::Error::new(e).context(format!("cannot put the site in {}", out.display()))
        );
    }
    if had {
        let _ = std::fs::remove_dir_all(&old);
    }
    Ok(())
}

/// Each `*.json` of `dir`, by name: read, judged again, drawn.
fn reports(dir: &Path) -> anyhow::Result<Vec<Report>> {
    let hint = "give a directory of the files `shipgate canary run --record FILE` wrote";
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| {
            Hinted::new(format!("cannot read --recordings {}", dir.display()), hint).because(e)
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Hinted::new(
                format!("cannot read the recording {}", path.display()),
                hint,
            )
            .because(e)
        })?;
        let rec = Recording::from_json(&text)
            .map_err(|e| hinted(format!("the recording {}: {e}", path.display()), hint))?;
        let (Some(env), Some(version)) = (rec.env.clone(), rec.version.clone()) else {
            return Err(hinted(
                format!(
                    "the recording {} does not say its environment and version",
                    path.display()
                ),
                "record live runs with `shipgate canary run --env ENV --record FILE`; a replay's recording has neither",
            ));
        };
        let evidence = review::evidence(&rec)
            .map_err(|e| hinted(format!("the recording {}: {e}", path.display()), hint))?;
        let marker = evidence.decided_at_s.map(|t| Marker {
            t,
            label: match evidence.verdict {
                "fail" => "rolled back".into(),
                _ => "decided".into(),
            },
        });
        let charts = shipgate_canary::charts(&rec, marker.as_ref())
            .map_err(|e| hinted(format!("the recording {}: {e}", path.display()), hint))?;
        out.push(Report {
            env,
            baseline: rec.baseline_version.clone().unwrap_or_else(|| "-".into()),
            version,
            evidence,
            charts,
        });
    }
    Ok(out)
}

/// The changelog's sections by version, from the work tree's changelog file (none when
/// there is none).
fn changelog(pipeline: &shipgate_pipeline::Pipeline) -> BTreeMap<String, String> {
    let rel = &pipeline.settings.release.changelog;
    if rel.is_empty() {
        return BTreeMap::new();
    }
    match std::fs::read_to_string(pipeline.repo.workdir().join(rel)) {
        Ok(text) => sections(&text),
        Err(_) => BTreeMap::new(),
    }
}

/// `## [1.4.0] - 2026-11-26` (or `## 1.4.0`, `## v1.4.0`) up to the next `## `: the body of
/// each release's section, by version.
pub fn sections(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("## ") {
            if let Some((v, body)) = current.take() {
                out.insert(v, body);
            }
            let rest = rest.trim_start().trim_start_matches('[');
            let version: String = rest
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != ']')
                .collect();
            let version = version.strip_prefix('v').unwrap_or(&version).to_string();
            if !version.is_empty() && version.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                current = Some((version, String::new()));
            }
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    if let Some((v, body)) = current {
        out.insert(v, body);
    }
    for body in out.values_mut() {
        *body = body.trim().to_string();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_cut_at_each_release_heading() {
        let text = "# Changelog\n\n## [Unreleased]\n\n- soon\n\n## [1.4.0] - 2026-11-26\n\n### Added\n\n- the page\n\n## v1.3.0\n\n- older\n";
        let s = sections(text);
        assert_eq!(s.keys().collect::<Vec<_>>(), ["1.3.0", "1.4.0"]);
        assert_eq!(s["1.4.0"], "### Added\n\n- the page");
        assert_eq!(s["1.3.0"], "- older");
    }

    #[test]
    fn a_directory_of_someone_else_s_files_is_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("site");
        check_out(&out).expect("absent is fine");
        std::fs::create_dir(&out).expect("mkdir");
        check_out(&out).expect("empty is fine");
        std::fs::write(out.join("notes.txt"), "mine").expect("write");
        let err = check_out(&out).expect_err("someone's files");
        assert!(err.to_string().contains("did not write"), "{err}");
        std::fs::write(out.join(MARKER), "").expect("marker");
        check_out(&out).expect("a site written before");
        let file = tmp.path().join("file");
        std::fs::write(&file, "x").expect("write");
        assert!(check_out(&file).is_err());
    }

    #[test]
    fn the_site_replaces_the_old_one_whole() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("site");
        let one = |path: &str, text: &str| page::File {
            path: path.into(),
            bytes: text.as_bytes().to_vec(),
        };
        write_site(
            &out,
            &[one("index.html", "1"), one("history/old.html", "x")],
        )
        .expect("first");
        write_site(&out, &[one("index.html", "2")]).expect("second");
        assert_eq!(
            std::fs::read_to_string(out.join("index.html")).expect("read"),
            "2"
        );
        assert!(!out.join("history/old.html").exists());
        assert!(out.join(MARKER).is_file());
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(left, ["site"], "nothing left beside it");
    }
}
