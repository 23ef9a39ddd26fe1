//! The status page: a static site built from the ledger alone (and the canary recordings
//! given), as files in memory. Pure: `page_cmd` gathers the facts and writes the files.
//!
//! - `index.html`: what runs where (since when, by whom, verified, frozen, held), blocked
//!   versions, pending approvals with the command to run, and the versions × environments
//!   matrix;
//! - `versions/`: each version's journey through the environments, its changelog section,
//!   every gate and its evidence;
//! - `history/`: every entry, newest first, filtered by environment, kind or person (one
//!   listing each, so that the filters work without JavaScript);
//! - `canaries/`: every canary verdict, and a report with charts per recording;
//! - `delivery.html`: the DORA keys and the canary outcomes per environment and month, as
//!   charts and tables.
//!
//! No script, nothing fetched from elsewhere: the pages work from a `file://` URL. Every
//! listing is paged so that no file is over 1 MB, and every outside text is escaped and cut
//! to a bounded length.

mod html;
mod svg;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use jiff::Timestamp;
use shipgate_canary::Chart;
use shipgate_pipeline::review::Evidence;
use shipgate_promote::entry::{Entry, Kind, Source, VerifyResult};
use shipgate_promote::metrics::{self, EnvMetrics};
use shipgate_promote::ops::Status;
use shipgate_promote::state::{MonthMetrics, month_of};

use html::{
    Esc, Frame, Section, TEXT_MAX, anchor, clip, head, page, page_file, pager, pages, slug, table,
    time, url_or_text,
};

/// The stylesheet, shared by every page.
const STYLE: &str = include_str!("style.css");

/// How many versions the matrix on the front page shows (the running ones always).
const MATRIX_VERSIONS: usize = 25;

/// How many versions one page of journeys holds at most.
const VERSIONS_PER_PAGE: usize = 100;

/// One canary recording, read and judged again, with its charts.
pub struct Report {
    /// The environment it ran in.
    pub env: String,
    /// The canary's version.
    pub version: String,
    /// The baseline's version.
    pub baseline: String,
    /// The judge's verdict replayed over the recording, per metric, and the impact.
    pub evidence: Evidence,
    /// One chart per metric.
    pub charts: Vec<Chart>,
}

/// What the site is built from.
pub struct Site<'a> {
    /// The site's name (the repository's).
    pub title: &'a str,
    /// When it is built.
    pub generated_at: Timestamp,
    /// The environments, in promotion order.
    pub order: &'a [String],
    /// `shipgate status`.
    pub status: &'a Status,
    /// Every ledger entry, newest first.
    pub entries: &'a [Entry],
    /// Per environment: its month records.
    pub months: &'a [(String, Vec<MonthMetrics>)],
    /// Approvals each environment needs.
    pub approvals: BTreeMap<String, u32>,
    /// How far back a failure makes a promotion rework, seconds.
    pub rework_window_s: i64,
    /// Changelog sections (Markdown) by version.
    pub changelog: BTreeMap<String, String>,
    /// Canary reports from recordings.
    pub reports: Vec<Report>,
}

/// One file of the site: its path relative to the site's root (`/`-separated, made of
/// this module's names and slugs only) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub path: String,
    pub bytes: Vec<u8>,
}

fn file(path: impl Into<String>, text: String) -> File {
    File {
        path: path.into(),
        bytes: text.into_bytes(),
    }
}

/// Every file of the site.
pub fn render(site: &Site<'_>) -> Vec<File> {
    let model = Model::new(site);
    let frame = Frame {
        site: site.title,
        generated_at: site.generated_at,
        ledger_commit: site.status.ledger_commit.as_deref(),
    };
    // The history (the most bytes) on a thread of its own, the rest beside it.
    let (mut files, history) = std::thread::scope(|s| {
        let history = s.spawn(|| history(site, &model, &frame));
        let mut files = vec![file("style.css", STYLE.to_string())];
        files.push(file("index.html", front(site, &model, &frame)));
        files.extend(versions(site, &model, &frame));
        files.extend(canaries(site, &model, &frame));
        files.push(file("delivery.html", delivery(site, &frame)));
        (files, history.join())
    });
    match history {
        Ok(history) => files.extend(history),
        Err(panic) => std::panic::resume_unwind(panic),
    }
    files
}

/// What one version did in one environment.
#[derive(Default)]
struct Cell<'e> {
    promoted: Option<&'e Entry>,
    verification: Option<&'e Entry>,
    approvers: BTreeSet<&'e str>,
    rolled_back: Option<&'e Entry>,
}

/// The entries, arranged once for every page.
struct Model<'e> {
    /// Versions, the most recently active first.
    versions: Vec<&'e str>,
    /// Each version's entries, oldest first (a rollback is in both versions').
    journeys: HashMap<&'e str, Vec<&'e Entry>>,
    /// Which page of journeys each version is on.
    version_page: HashMap<&'e str, usize>,
    /// How many pages of journeys.
    version_pages: usize,
    cells: HashMap<(&'e str, &'e str), Cell<'e>>,
    /// Each canary's page, when a recording was given: by (environment, version).
    reports: HashMap<(&'e str, &'e str), usize>,
}

impl<'e> Model<'e> {
    fn new(site: &'e Site<'e>) -> Self {
        let mut versions = Vec::new();
        let mut journeys: HashMap<&str, Vec<&Entry>> = HashMap::new();
        for e in site.entries {
            for v in e.version.iter().chain(
                e.from
                    .iter()
                    .filter(|_| e.kind == Kind::Rollback && e.from != e.version),
            ) {
                let list = journeys.entry(v.as_str()).or_default();
                if list.is_empty() {
                    versions.push(v.as_str());
                }
                list.push(e);
            }
        }
        for list in journeys.values_mut() {
            list.reverse();
        }
        let mut cells: HashMap<(&str, &str), Cell> = HashMap::new();
        for e in site.entries.iter().rev() {
            let (Some(env), Some(v)) = (e.environment.as_deref(), e.version.as_deref()) else {
                continue;
            };
            match e.kind {
                Kind::Promotion => cells.entry((v, env)).or_default().promoted = Some(e),
                Kind::Verification => cells.entry((v, env)).or_default().verification = Some(e),
                Kind::Approval => {
                    cells.entry((v, env)).or_default().approvers.insert(&e.by);
                }
                Kind::Rollback => {
                    if let Some(from) = e.from.as_deref() {
                        cells.entry((from, env)).or_default().rolled_back = Some(e);
                    }
                }
                _ => {}
            }
        }
        // Pages of journeys by count and by an upper bound of their size.
        let mut version_page = HashMap::new();
        let (mut n, mut on_page, mut bytes) = (1, 0, 0);
        for v in &versions {
            let size = journey_bound(site, v, journeys.get(v).map_or(&[][..], |j| &j[..]));
            if on_page > 0 && (on_page >= VERSIONS_PER_PAGE || bytes + size > html::BYTES_PER_PAGE)
            {
                n += 1;
                on_page = 0;
                bytes = 0;
            }
            on_page += 1;
            bytes += size;
            version_page.insert(*v, n);
        }
        let version_pages = n;
        let reports = site
            .reports
            .iter()
            .enumerate()
            .map(|(i, r)| ((r.env.as_str(), r.version.as_str()), i + 1))
            .collect();
        Model {
            versions,
            journeys,
            version_page,
            version_pages,
            cells,
            reports,
        }
    }

    /// A link to a version's journey from a page `up` (`""` or `"../"`) below the root.
    fn version_link(&self, version: &str, up: &str) -> String {
        match self.version_page.get(version) {
            Some(n) => format!(
                "<a href=\"{up}versions/{}#{}\">{}</a>",
                page_file("page", *n),
                anchor(version),
                clip(version, 80)
            ),
            None => clip(version, 80),
        }
    }
}

/// The most bytes `text` takes on a page, escaped and clipped to `max` characters.
fn text_bound(text: &str, max: usize) -> usize {
    let cut = text.char_indices().nth(max).map_or(text.len(), |(i, _)| i);
    let text = &text[..cut];
    text.len() + 5 * text.bytes().filter(|b| b"&<>\"'".contains(b)).count() + 3
}

/// The most bytes of one entry in a journey (its links at their longest).
fn entry_bound(e: &Entry) -> usize {
    let t = |o: &Option<String>, max: usize| o.as_deref().map_or(0, |s| text_bound(s, max));
    let version_links = 3 * (120 + 2 * (t(&e.version, 80) + t(&e.from, 80)));
    let canary = e.canary.as_ref().map_or(0, |c| {
        200 + text_bound(&c.rule, TEXT_MAX)
            + c.metric.as_deref().map_or(0, |m| text_bound(m, 80))
            + 2 * (120 + 2 * text_bound(&c.baseline_version, 80))
    });
    let gates: usize = e
        .gates
        .iter()
        .map(|g| 120 + text_bound(&g.name, 80) + text_bound(&g.detail, TEXT_MAX))
        .sum();
    600 + version_links
        + canary
        + gates
        + text_bound(&e.by, 80)
        + 2 * t(&e.evidence, TEXT_MAX)
        + t(&e.reason, TEXT_MAX)
        + 2 * t(&e.run_url, 120)
        + t(&e.environment, 80)
}

/// The most bytes of a version's journey.
fn journey_bound(site: &Site<'_>, version: &str, entries: &[&Entry]) -> usize {
    let changelog = site
        .changelog
        .get(version)
        .map_or(0, |md| 6 * md.len().min(CHANGELOG_MAX) + 1_000);
    let envs: usize = site.order.iter().map(|e| 40 + text_bound(e, 80)).sum();
    let shown = entries.len().saturating_sub(JOURNEY_MAX);
    400 + changelog
        + envs
        + 4 * text_bound(version, 80)
        + entries[shown..]
            .iter()
            .map(|e| entry_bound(e))
            .sum::<usize>()
}

/// The most entries one journey shows (the newest; the rest are in the history).
const JOURNEY_MAX: usize = 200;

/// The most bytes of a changelog section shown.
const CHANGELOG_MAX: usize = 8_000;

fn or_dash(text: Option<String>) -> String {
    text.unwrap_or_else(|| "<span class=\"none\">–</span>".into())
}

/// The front page: what runs where, blocked versions, pending approvals, the matrix.
fn front(site: &Site<'_>, model: &Model<'_>, frame: &Frame<'_>) -> String {
    let mut body = format!(
        "<h1>What runs where</h1>\n<p class=\"lead\">{} ledger entries{}.</p>\n",
        site.status.entries,
        if site.status.pending > 0 {
            format!("; {} written here but not pushed yet", site.status.pending)
        } else {
            String::new()
        }
    );
    body.push_str("<h2 id=\"environments\">Environments</h2>\n");
    let mut rows = String::new();
    for e in &site.status.environments {
        let verified = match &e.verification {
            Some(v) => format!(
                "<span class=\"{}\">{}</span> {} by {}",
                if v.result == VerifyResult::Pass {
                    "pass"
                } else {
                    "fail"
                },
                if v.result == VerifyResult::Pass {
                    "passed"
                } else {
                    "failed"
                },
                time(v.at),
                clip(&v.by, 80)
            ),
            None if e.version.is_some() => "<span class=\"warn\">not verified</span>".into(),
            None => or_dash(None),
        };
        let frozen = if e.frozen.is_empty() {
            "no".to_string()
        } else {
            format!(
                "<span class=\"warn\">frozen</span>: {}",
                e.frozen
                    .iter()
                    .map(|f| clip(f, TEXT_MAX))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        };
        let hold = match (e.lock, &e.holder) {
            ("free", _) => "free".to_string(),
            (state, Some(h)) => format!("<span class=\"warn\">{state}</span> by {}", clip(h, 200)),
            (state, None) => format!("<span class=\"warn\">{state}</span>"),
        };
        let rollback = e.last_rollback.as_ref().map(|r| {
            format!(
                "<span class=\"fail\">rolled back</span> {} → {} {} by {}: {}",
                model.version_link(&r.from, ""),
                model.version_link(&r.to, ""),
                time(r.at),
                clip(&r.by, 80),
                clip(&r.reason, TEXT_MAX)
            )
        });
        let _ = writeln!(
            rows,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            Esc(&e.name),
            or_dash(e.version.as_deref().map(|v| model.version_link(v, ""))),
            or_dash(e.since.map(time)),
            or_dash(e.by.as_deref().map(|b| clip(b, 80))),
            verified,
            or_dash(e.desired.as_deref().map(|d| clip(d, 80))),
            frozen,
            hold,
            or_dash(rollback),
        );
    }
    body.push_str(&table(
        "Environments",
        &head(&[
            "Environment",
            "Version",
            "Since",
            "By",
            "Verified",
            "In its file",
            "Frozen",
            "Hold",
            "Last rollback",
        ]),
        &rows,
    ));

    body.push_str("<h2 id=\"blocked\">Blocked versions</h2>\n");
    if site.status.blocked.is_empty() {
        body.push_str("<p>None: every version may be promoted.</p>\n");
    } else {
        body.push_str("<ul>\n");
        for v in &site.status.blocked {
            let _ = writeln!(
                body,
                "<li>{}: to promote it again, <code>shipgate unblock {} --reason \"…\" --push</code></li>",
                model.version_link(v, ""),
                Esc(v)
            );
        }
        body.push_str("</ul>\n");
    }

    body.push_str("<h2 id=\"approvals\">Pending approvals</h2>\n");
    let pending = pending_approvals(site, model);
    if pending.is_empty() {
        body.push_str("<p>None.</p>\n");
    } else {
        body.push_str("<ul>\n");
        for (v, env, have, need) in pending {
            let _ = writeln!(
                body,
                "<li>{} for {}: {have} of {need} approval{}; to approve, <code>shipgate approve {} --env {} --push</code></li>",
                model.version_link(v, ""),
                Esc(env),
                if need == 1 { "" } else { "s" },
                Esc(v),
                Esc(env)
            );
        }
        body.push_str("</ul>\n");
    }

    body.push_str("<h2 id=\"matrix\">Versions and environments</h2>\n");
    let running: BTreeSet<&str> = site
        .status
        .environments
        .iter()
        .filter_map(|e| e.version.as_deref())
        .collect();
    let shown: Vec<&str> = model
        .versions
        .iter()
        .enumerate()
        .filter(|(i, v)| *i < MATRIX_VERSIONS || running.contains(*v))
        .map(|(_, v)| *v)
        .collect();
    let _ = writeln!(
        body,
        "<p>The {} most recently active of {} versions; every one is under <a href=\"versions/index.html\">Versions</a>.</p>",
        shown.len(),
        model.versions.len()
    );
    let mut columns = vec!["Version".to_string()];
    columns.extend(site.order.iter().map(|e| Esc(e).to_string()));
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut rows = String::new();
    for v in shown {
        let _ = write!(
            rows,
            "<tr><th scope=\"row\">{}</th>",
            model.version_link(v, "")
        );
        for env in site.order {
            let _ = write!(rows, "<td>{}</td>", matrix_cell(site, model, v, env));
        }
        rows.push_str("</tr>\n");
    }
    body.push_str(&table("Versions and environments", &head(&columns), &rows));
    page(frame, "What runs where", 0, Section::Status, &body)
}

/// One cell of the matrix, in words (the colour only repeats them).
fn matrix_cell(site: &Site<'_>, model: &Model<'_>, version: &str, env: &str) -> String {
    let running = site
        .status
        .environments
        .iter()
        .find(|e| e.name == env)
        .filter(|e| e.version.as_deref() == Some(version));
    let cell = model.cells.get(&(version, env));
    let mut parts = Vec::new();
    if let Some(e) = running {
        parts.push(format!(
            "<strong class=\"run\">running</strong> since {}",
            or_dash(e.since.map(time))
        ));
    }
    if let Some(c) = cell {
        if let (Some(p), None) = (c.promoted, running) {
            parts.push(format!("promoted {}", time(p.at)));
        }
        if let Some(r) = c.rolled_back {
            parts.push(format!(
                "<span class=\"fail\">rolled back</span> {}",
                time(r.at)
            ));
        }
        if let Some(v) = c.verification {
            parts.push(match v.result {
                Some(VerifyResult::Pass) => "<span class=\"pass\">verified</span>".to_string(),
                _ => "<span class=\"fail\">verification failed</span>".to_string(),
            });
        }
        let need = site.approvals.get(env).copied().unwrap_or(0);
        if !c.approvers.is_empty() || (need > 0 && c.promoted.is_some()) {
            parts.push(format!(
                "{} approval{}{}",
                c.approvers.len(),
                if c.approvers.len() == 1 { "" } else { "s" },
                if need > 0 {
                    format!(" of {need}")
                } else {
                    String::new()
                }
            ));
        }
    }
    if site.status.blocked.iter().any(|b| b == version) && running.is_none() {
        parts.push("<span class=\"fail\">blocked</span>".into());
    }
    if parts.is_empty() {
        return "<span class=\"none\">not here</span>".into();
    }
    parts.join("<br>")
}

/// Versions waiting for approvals: for each environment that needs some, the version that
/// runs in the environment before it (when not there yet), and any version with some
/// approvals there but not promoted there: `(version, env, approvals, needed)`.
fn pending_approvals<'m>(
    site: &Site<'m>,
    model: &Model<'m>,
) -> Vec<(&'m str, &'m str, usize, u32)> {
    let mut out = Vec::new();
    for (i, env) in site.order.iter().enumerate() {
        let need = site.approvals.get(env).copied().unwrap_or(0);
        if need == 0 {
            continue;
        }
        let here = site
            .status
            .environments
            .iter()
            .find(|e| &e.name == env)
            .and_then(|e| e.version.as_deref());
        let mut candidates: Vec<&str> = Vec::new();
        if i > 0
            && let Some(prev) = site
                .status
                .environments
                .iter()
                .find(|e| e.name == site.order[i - 1])
                .and_then(|e| e.version.as_deref())
        {
            candidates.push(prev);
        }
        for v in &model.versions {
            if let Some(c) = model.cells.get(&(*v, env.as_str()))
                && !c.approvers.is_empty()
                && c.promoted.is_none()
                && !candidates.contains(v)
            {
                candidates.push(v);
            }
        }
        for v in candidates {
            if Some(v) == here || site.status.blocked.iter().any(|b| b == v) {
                continue;
            }
            let have = model
                .cells
                .get(&(v, env.as_str()))
                .map_or(0, |c| c.approvers.len());
            if have < need as usize {
                // The version's &str lives in the model, whose strings are the site's.
                if let Some(v) = model.versions.iter().find(|m| **m == v) {
                    out.push((*v, env.as_str(), have, need));
                }
            }
        }
    }
    out
}

/// An entry's kind for people.
fn kind_label(kind: Kind) -> &'static str {
    match kind {
        Kind::Promotion => "Promotion",
        Kind::Rollback => "Rollback",
        Kind::Approval => "Approval",
        Kind::Verification => "Verification",
        Kind::Freeze => "Freeze",
        Kind::Unfreeze => "Unfreeze",
        Kind::Block => "Block",
        Kind::Unblock => "Unblock",
    }
}

const KINDS: [Kind; 8] = [
    Kind::Promotion,
    Kind::Rollback,
    Kind::Approval,
    Kind::Verification,
    Kind::Freeze,
    Kind::Unfreeze,
    Kind::Block,
    Kind::Unblock,
];

/// What an entry says beyond its kind, environment, version and author.
fn detail(e: &Entry, model: &Model<'_>, up: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    match e.kind {
        Kind::Promotion => {
            if let Some(from) = &e.from {
                parts.push(format!("from {}", model.version_link(from, up)));
            }
            if let Some(c) = &e.changes {
                parts.push(format!(
                    "{} new commit{}",
                    c.count,
                    if c.count == 1 { "" } else { "s" }
                ));
            }
            let failed: Vec<&str> = e
                .gates
                .iter()
                .filter(|g| !g.passed)
                .map(|g| g.name.as_str())
                .collect();
            if !e.gates.is_empty() {
                parts.push(if failed.is_empty() {
                    format!("{} gates passed", e.gates.len())
                } else {
                    format!("gates overridden: {}", clip(&failed.join(", "), 200))
                });
            }
        }
        Kind::Rollback => {
            if let Some(from) = &e.from {
                parts.push(format!("from {}", model.version_link(from, up)));
            }
        }
        Kind::Verification => {
            parts.push(match e.result {
                Some(VerifyResult::Pass) => "<span class=\"pass\">pass</span>".into(),
                _ => "<span class=\"fail\">fail</span>".into(),
            });
            if let Some(s) = e.source {
                parts.push(match s {
                    Source::Canary => "by canary".into(),
                    Source::Verify => "by shipgate verify".into(),
                });
            }
        }
        _ => {}
    }
    if let Some(c) = &e.canary {
        parts.push(format!(
            "canary {} at {:.0} s{}: {}",
            match c.verdict {
                VerifyResult::Pass => "passed",
                VerifyResult::Fail => "failed",
            },
            c.decided_at_s,
            c.metric
                .as_deref()
                .map(|m| format!(" on {}", clip(m, 80)))
                .unwrap_or_default(),
            clip(&c.rule, TEXT_MAX)
        ));
    }
    if let Some(ev) = e
        .evidence
        .as_ref()
        .filter(|ev| e.canary.as_ref().is_none_or(|c| &c.rule != *ev))
    {
        parts.push(format!("evidence: {}", url_or_text(ev)));
    }
    if let Some(r) = &e.reason {
        parts.push(format!("<strong>{}</strong>", clip(r, TEXT_MAX)));
    }
    if let Some(u) = &e.run_url {
        parts.push(url_or_text(u).replace(">http", " title=\"the CI run\">http"));
    }
    parts.join("; ")
}

/// One history row (the same on every listing: they are all in `history/`).
fn history_row(e: &Entry, model: &Model<'_>) -> String {
    let class = match e.kind {
        Kind::Rollback => " class=\"rollback\"",
        Kind::Block | Kind::Freeze => " class=\"attention\"",
        _ => "",
    };
    format!(
        "<tr{class}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
        time(e.at),
        kind_label(e.kind),
        or_dash(e.environment.as_deref().map(|v| clip(v, 80))),
        or_dash(e.version.as_deref().map(|v| model.version_link(v, "../"))),
        clip(&e.by, 80),
        detail(e, model, "../"),
    )
}

/// The filters above every history listing: links to the other listings.
fn filters(site: &Site<'_>, present: &BTreeSet<Kind>, current: &str) -> String {
    let link = |stem: &str, label: &str| {
        if stem == current {
            format!("<li><a href=\"{stem}.html\" aria-current=\"page\">{label}</a></li>")
        } else {
            format!("<li><a href=\"{stem}.html\">{label}</a></li>")
        }
    };
    let mut s =
        String::from("<nav class=\"filters\" aria-label=\"Filters\">\n<p>Environment:</p><ul>");
    s.push_str(&link("index", "all"));
    for env in site.order {
        s.push_str(&link(&format!("env-{}", slug(env)), &Esc(env).to_string()));
    }
    s.push_str("</ul>\n<p>Kind:</p><ul>");
    for k in KINDS.iter().filter(|k| present.contains(k)) {
        s.push_str(&link(&format!("kind-{}", k.as_str()), k.as_str()));
    }
    s.push_str("</ul>\n<p>Who:</p><ul>");
    s.push_str(&link("people", "everyone, by name"));
    s.push_str("</ul>\n</nav>\n");
    s
}

/// `history/`: every entry; per environment; per kind; per person.
fn history(site: &Site<'_>, model: &Model<'_>, frame: &Frame<'_>) -> Vec<File> {
    let rows: Vec<String> = site.entries.iter().map(|e| history_row(e, model)).collect();
    let present: BTreeSet<Kind> = site.entries.iter().map(|e| e.kind).collect();
    let mut files = Vec::new();
    let mut listing = |stem: &str, title: &str, picked: Vec<&str>| {
        let chunks = pages(&picked);
        let count = chunks.len();
        for (i, chunk) in chunks.into_iter().enumerate() {
            let n = i + 1;
            let mut body = format!("<h1>{title}</h1>\n");
            body.push_str(&filters(site, &present, stem));
            let _ = writeln!(
                body,
                "<p>{} entr{}, newest first{}.</p>",
                picked.len(),
                if picked.len() == 1 { "y" } else { "ies" },
                if count > 1 {
                    format!("; page {n} of {count}")
                } else {
                    String::new()
                }
            );
            body.push_str(&pager(stem, n, count));
            body.push_str(&table(
                "Ledger entries",
                &head(&["When", "Kind", "Environment", "Version", "By", "Details"]),
                &chunk.concat(),
            ));
            body.push_str(&pager(stem, n, count));
            files.push(file(
                format!("history/{}", page_file(stem, n)),
                page(frame, title, 1, Section::History, &body),
            ));
        }
    };
    listing(
        "index",
        "History",
        rows.iter().map(String::as_str).collect(),
    );
    for env in site.order {
        let picked = site
            .entries
            .iter()
            .zip(&rows)
            .filter(|(e, _)| e.environment.as_deref() == Some(env.as_str()))
            .map(|(_, r)| r.as_str())
            .collect();
        listing(
            &format!("env-{}", slug(env)),
            &format!("History of {}", Esc(env)),
            picked,
        );
    }
    for k in KINDS.iter().filter(|k| present.contains(k)) {
        let picked = site
            .entries
            .iter()
            .zip(&rows)
            .filter(|(e, _)| e.kind == *k)
            .map(|(_, r)| r.as_str())
            .collect();
        listing(
            &format!("kind-{}", k.as_str()),
            &format!("History: {}s", k.as_str()),
            picked,
        );
    }
    let mut people: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (e, r) in site.entries.iter().zip(&rows) {
        people.entry(e.by.as_str()).or_default().push(r.as_str());
    }
    let mut list = String::new();
    for (who, picked) in &people {
        let stem = format!("who-{}", slug(who));
        let _ = writeln!(
            list,
            "<tr><th scope=\"row\"><a href=\"{stem}.html\">{}</a></th><td>{}</td></tr>",
            clip(who, 120),
            picked.len()
        );
    }
    for (who, picked) in people {
        listing(
            &format!("who-{}", slug(who)),
            &format!("History of {}", clip(who, 120)),
            picked,
        );
    }
    let mut body = String::from("<h1>Everyone in the ledger</h1>\n");
    body.push_str(&filters(site, &present, "people"));
    body.push_str(&table("People", &head(&["Who", "Entries"]), &list));
    files.push(file(
        "history/people.html",
        page(frame, "Everyone in the ledger", 1, Section::History, &body),
    ));
    files
}

/// Markdown to HTML with raw HTML shown as text and links only to the web or within the
/// page: a changelog is outside text too.
fn markdown(text: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, Tag};
    let safe = |dest: &str| {
        let d = dest.trim_start().to_ascii_lowercase();
        d.starts_with("https://") || d.starts_with("http://") || d.starts_with('#')
    };
    let events = Parser::new_ext(text, Options::empty()).map(|event| match event {
        Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) if !safe(&dest_url) => Event::Start(Tag::Link {
            link_type,
            dest_url: "#".into(),
            title,
            id,
        }),
        Event::Start(Tag::Image { dest_url, .. }) => Event::Text(dest_url),
        Event::End(pulldown_cmark::TagEnd::Image) => Event::Text("".into()),
        other => other,
    });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

/// `versions/`: the list of versions, and each one's journey.
fn versions(site: &Site<'_>, model: &Model<'_>, frame: &Frame<'_>) -> Vec<File> {
    let mut files = Vec::new();
    let count = model.version_pages;
    let mut list_rows = Vec::new();
    let mut bodies: Vec<String> = vec![String::new(); count];
    for v in &model.versions {
        let mut row = format!(
            "<tr><th scope=\"row\">{}</th>",
            model.version_link(v, "../")
        );
        for env in site.order {
            let cell = model.cells.get(&(*v, env.as_str()));
            let word = match cell {
                Some(c) if c.rolled_back.is_some() => "<span class=\"fail\">rolled back</span>",
                Some(c) if c.promoted.is_some() => match c.verification.and_then(|v| v.result) {
                    Some(VerifyResult::Pass) => "<span class=\"pass\">verified</span>",
                    Some(VerifyResult::Fail) => "<span class=\"fail\">failed</span>",
                    None => "promoted",
                },
                Some(_) => "approved",
                None => "<span class=\"none\">–</span>",
            };
            let _ = write!(row, "<td>{word}</td>");
        }
        row.push_str("</tr>\n");
        list_rows.push(row);
        let n = model.version_page.get(v).copied().unwrap_or(1);
        bodies[n - 1].push_str(&journey(site, model, v));
    }
    for (i, journeys) in bodies.iter().enumerate() {
        let n = i + 1;
        let mut body = format!("<h1>Versions, page {n} of {count}</h1>\n");
        body.push_str(&pager("page", n, count));
        body.push_str(journeys);
        body.push_str(&pager("page", n, count));
        files.push(file(
            format!("versions/{}", page_file("page", n)),
            page(
                frame,
                &format!("Versions, page {n}"),
                1,
                Section::Versions,
                &body,
            ),
        ));
    }
    let mut columns = vec!["Version".to_string()];
    columns.extend(site.order.iter().map(|e| Esc(e).to_string()));
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    let rows: Vec<&str> = list_rows.iter().map(String::as_str).collect();
    let chunks = pages(&rows);
    let listing_count = chunks.len();
    for (i, chunk) in chunks.into_iter().enumerate() {
        let n = i + 1;
        let mut body = format!(
            "<h1>Versions</h1>\n<p>{} versions in the ledger, the most recently active first{}.</p>\n",
            model.versions.len(),
            if listing_count > 1 {
                format!("; page {n} of {listing_count}")
            } else {
                String::new()
            }
        );
        body.push_str(&pager("index", n, listing_count));
        body.push_str(&table("Versions", &head(&columns), &chunk.concat()));
        body.push_str(&pager("index", n, listing_count));
        files.push(file(
            format!("versions/{}", page_file("index", n)),
            page(frame, "Versions", 1, Section::Versions, &body),
        ));
    }
    files
}

/// One version's journey: its changelog section, then per environment its entries with
/// their gates and evidence.
fn journey(site: &Site<'_>, model: &Model<'_>, version: &str) -> String {
    let mut s = format!(
        "<section class=\"version\" aria-labelledby=\"{id}\">\n<h2 id=\"{id}\">{}</h2>\n",
        clip(version, 80),
        id = anchor(version)
    );
    match site.changelog.get(version) {
        Some(md) => {
            let _ = write!(
                s,
                "<details><summary>Changelog</summary>\n<div class=\"changelog\">{}</div></details>\n",
                markdown(&md[..md.floor_char_boundary(CHANGELOG_MAX)])
            );
        }
        None => s.push_str("<p class=\"none\">No changelog section for this version.</p>\n"),
    }
    let all = model
        .journeys
        .get(version)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let older = all.len().saturating_sub(JOURNEY_MAX);
    let entries = &all[older..];
    if older > 0 {
        let _ = writeln!(
            s,
            "<p>The newest {JOURNEY_MAX} of its {} entries; the {older} older ones are in the <a href=\"../history/index.html\">history</a>.</p>",
            all.len()
        );
    }
    let mut groups: Vec<(Option<&str>, Vec<&Entry>)> = site
        .order
        .iter()
        .map(|e| (Some(e.as_str()), Vec::new()))
        .collect();
    for e in entries {
        match groups
            .iter_mut()
            .find(|(env, _)| *env == e.environment.as_deref())
        {
            Some((_, list)) => list.push(e),
            None => match groups.iter_mut().find(|(env, _)| env.is_none()) {
                Some((_, list)) => list.push(e),
                None => groups.push((None, vec![e])),
            },
        }
    }
    for (env, list) in groups.iter().filter(|(_, l)| !l.is_empty()) {
        let _ = writeln!(
            s,
            "<h3>{}</h3>\n<ol class=\"journey\">",
            env.map(|e| Esc(e).to_string())
                .unwrap_or_else(|| "Every environment".into())
        );
        for e in list {
            let _ = write!(
                s,
                "<li{}>{} <strong>{}</strong> by {}",
                if e.kind == Kind::Rollback {
                    " class=\"rollback\""
                } else {
                    ""
                },
                time(e.at),
                kind_label(e.kind),
                clip(&e.by, 80)
            );
            let d = detail(e, model, "../");
            if !d.is_empty() {
                let _ = write!(s, ": {d}");
            }
            if e.canary.is_some()
                && let Some(n) = e
                    .environment
                    .as_deref()
                    .and_then(|env| model.reports.get(&(env, version)))
            {
                let _ = write!(
                    s,
                    " (<a href=\"../canaries/report-{n}.html\">canary report</a>)"
                );
            }
            if !e.gates.is_empty() {
                s.push_str("<ul class=\"gates\">");
                for g in &e.gates {
                    let _ = write!(
                        s,
                        "<li><span class=\"{}\">{}</span> {}: {}</li>",
                        if g.passed { "pass" } else { "fail" },
                        if g.passed { "passed" } else { "overridden" },
                        clip(&g.name, 80),
                        clip(&g.detail, TEXT_MAX)
                    );
                }
                s.push_str("</ul>");
            }
            s.push_str("</li>\n");
        }
        s.push_str("</ol>\n");
    }
    s.push_str("</section>\n");
    s
}

/// The version a canary judged: a rollback's `from`, else the entry's version.
fn judged(e: &Entry) -> Option<&str> {
    if e.kind == Kind::Rollback {
        e.from.as_deref()
    } else {
        e.version.as_deref()
    }
}

/// `canaries/`: every verdict in the ledger, and a report per recording.
fn canaries(site: &Site<'_>, model: &Model<'_>, frame: &Frame<'_>) -> Vec<File> {
    let mut files = Vec::new();
    // A failing canary's rollback carries the same summary as any failed verification
    // written with it: one row.
    let mut seen = BTreeSet::new();
    let mut rows = Vec::new();
    for e in site.entries.iter().filter(|e| e.canary.is_some()) {
        let c = e.canary.as_ref().expect("filtered");
        let version = judged(e);
        if !seen.insert((
            e.environment.as_deref(),
            version,
            c.rule.as_str(),
            c.decided_at_s.to_bits(),
        )) {
            continue;
        }
        let report = e
            .environment
            .as_deref()
            .zip(version)
            .and_then(|k| model.reports.get(&k))
            .map(|n| format!("<a href=\"report-{n}.html\">report</a>"));
        rows.push(format!(
            "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.0} s</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            if c.verdict == VerifyResult::Fail { " class=\"rollback\"" } else { "" },
            time(e.at),
            or_dash(e.environment.as_deref().map(|v| clip(v, 80))),
            or_dash(version.map(|v| model.version_link(v, "../"))),
            match c.verdict {
                VerifyResult::Pass => "<span class=\"pass\">passed</span>",
                VerifyResult::Fail => "<span class=\"fail\">failed, rolled back</span>",
            },
            c.decided_at_s,
            or_dash(c.metric.as_deref().map(|m| clip(m, 80))),
            clip(&c.rule, TEXT_MAX),
            model.version_link(&c.baseline_version, "../"),
            or_dash(report),
        ));
    }
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let chunks = pages(&refs);
    let count = chunks.len();
    for (i, chunk) in chunks.into_iter().enumerate() {
        let n = i + 1;
        let mut body = format!(
            "<h1>Canaries</h1>\n<p>{} canary verdicts in the ledger, newest first; {} report{} from recordings.</p>\n",
            rows.len(),
            site.reports.len(),
            if site.reports.len() == 1 { "" } else { "s" }
        );
        if !site.reports.is_empty() {
            body.push_str("<ul>");
            for (i, r) in site.reports.iter().enumerate() {
                let _ = write!(
                    body,
                    "<li><a href=\"report-{}.html\">{} in {}</a> against {}: {}</li>",
                    i + 1,
                    clip(&r.version, 80),
                    clip(&r.env, 80),
                    clip(&r.baseline, 80),
                    Esc(r.evidence.verdict)
                );
            }
            body.push_str("</ul>\n");
        }
        body.push_str(&pager("index", n, count));
        body.push_str(&table(
            "Canary verdicts",
            &head(&[
                "When",
                "Environment",
                "Version",
                "Verdict",
                "Decided after",
                "Metric",
                "Rule",
                "Baseline",
                "Report",
            ]),
            &chunk.concat(),
        ));
        body.push_str(&pager("index", n, count));
        files.push(file(
            format!("canaries/{}", page_file("index", n)),
            page(frame, "Canaries", 1, Section::Canaries, &body),
        ));
    }
    for (i, r) in site.reports.iter().enumerate() {
        let n = i + 1;
        files.extend(report(model, frame, r, n));
    }
    files
}

/// A metric's value as its kind reads.
fn value(kind: &str, v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if kind == "counts" => format!("{:.3} %", v * 100.0),
        Some(v) if kind == "latency" => format!("{v:.3} s"),
        Some(v) => format!("{v}"),
    }
}

/// `canaries/report-N.html` and its charts.
fn report(model: &Model<'_>, frame: &Frame<'_>, r: &Report, n: usize) -> Vec<File> {
    let ev = &r.evidence;
    let title = format!("Canary of {} in {}", clip(&r.version, 80), clip(&r.env, 80));
    let mut body = format!("<h1>{title}</h1>\n<dl class=\"facts\">");
    let _ = write!(
        body,
        "<dt>Version</dt><dd>{}</dd><dt>Baseline</dt><dd>{}</dd><dt>Started</dt><dd>{}</dd><dt>Verdict (judged again from the recording)</dt><dd><span class=\"{}\">{}</span>: {}</dd><dt>Decided after</dt><dd>{}</dd><dt>Recorded</dt><dd>{} intervals over {:.0} s</dd>",
        model.version_link(&r.version, "../"),
        model.version_link(&r.baseline, "../"),
        or_dash(ev.started_at.as_deref().map(|s| clip(s, 40))),
        match ev.verdict {
            "pass" => "pass",
            "fail" => "fail",
            _ => "warn",
        },
        Esc(ev.verdict),
        clip(&ev.rule, TEXT_MAX),
        or_dash(ev.decided_at_s.map(|s| format!("{s:.0} s"))),
        ev.intervals,
        ev.duration_s,
    );
    if let Some(req) = ev.canary_requests {
        let _ = write!(body, "<dt>Requests the canary served</dt><dd>{req:.0}</dd>");
    }
    body.push_str("</dl>\n<h2>Metrics</h2>\n");
    let mut rows = String::new();
    for m in &ev.metrics {
        let _ = writeln!(
            rows,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            clip(&m.name, 80),
            Esc(m.kind),
            Esc(m.verdict),
            value(m.kind, m.canary),
            value(m.kind, m.baseline),
            clip(&m.rule, TEXT_MAX)
        );
    }
    body.push_str(&table(
        "Metrics",
        &head(&["Metric", "Kind", "Verdict", "Canary", "Baseline", "Rule"]),
        &rows,
    ));
    if !ev.excess_errors.is_empty() {
        body.push_str("<h2>Impact (an estimate)</h2>\n");
        let mut rows = String::new();
        for x in &ev.excess_errors {
            let _ = writeln!(
                rows,
                "<tr><th scope=\"row\">{}</th><td>{:.0}</td><td>{:.0}</td><td>{}</td><td>{}</td></tr>",
                clip(&x.metric, 80),
                x.canary_requests,
                x.canary_errors,
                or_dash(
                    x.baseline_error_share
                        .map(|s| format!("{:.3} %", s * 100.0))
                ),
                or_dash(x.excess_errors.map(|e| format!("{e:.0}"))),
            );
        }
        body.push_str(&table(
            "Impact",
            &head(&[
                "Metric",
                "Canary requests",
                "Canary errors",
                "Baseline error share",
                "Errors beyond the baseline's share",
            ]),
            &rows,
        ));
    }
    let mut files = Vec::new();
    if !r.charts.is_empty() {
        body.push_str("<h2>Charts</h2>\n");
        for c in &r.charts {
            let _ = writeln!(
                body,
                "<figure><img src=\"report-{n}/{}\" alt=\"{} of the canary against the baseline over the run\" width=\"800\"><figcaption>{}</figcaption></figure>",
                Esc(&c.file_name),
                Esc(&c.metric),
                clip(&c.metric, 80)
            );
            files.push(file(
                format!("canaries/report-{n}/{}", c.file_name),
                c.svg.clone(),
            ));
        }
    }
    files.push(file(
        format!("canaries/report-{n}.html"),
        page(frame, &title, 1, Section::Canaries, &body),
    ));
    files
}

/// The month records of one environment, by month: the delivery metrics of each month, as
/// `shipgate metrics` computes them.
struct Months {
    labels: Vec<String>,
    metrics: Vec<EnvMetrics>,
}

fn months_of(site: &Site<'_>, env: &str, records: &[MonthMetrics]) -> Months {
    let mut by_month: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for m in records {
        let at = m
            .promotions
            .first()
            .map(|p| p.at)
            .or_else(|| m.restores.first().map(|r| r.at))
            .or_else(|| m.canaries.first().map(|c| c.at));
        if let Some(ts) = at.and_then(|s| Timestamp::from_second(s).ok()) {
            by_month.insert(month_of(ts), month_bounds(ts));
        }
    }
    let mut out = Months {
        labels: Vec::new(),
        metrics: Vec::new(),
    };
    for (month, (start, end)) in by_month {
        out.metrics.push(metrics::compute(
            env,
            records,
            start,
            end - 1,
            site.rework_window_s,
        ));
        out.labels.push(month);
    }
    out
}

/// The first second of `at`'s month (UTC) and of the month after.
fn month_bounds(at: Timestamp) -> (i64, i64) {
    let date = at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let first = date.first_of_month();
    let next = first
        .checked_add(jiff::Span::new().months(1))
        .unwrap_or(first);
    let second = |d: jiff::civil::Date| {
        format!("{d}T00:00:00Z")
            .parse::<Timestamp>()
            .map_or(0, |t| t.as_second())
    };
    (second(first), second(next))
}

/// `delivery.html`: per environment, the DORA keys and the canary outcomes by month.
fn delivery(site: &Site<'_>, frame: &Frame<'_>) -> String {
    let mut body = String::from(
        "<h1>Delivery</h1>\n<p>The DORA keys per environment and month, from the ledger: deployments, lead time for changes (median), change failure rate, time to restore (median), rework rate; and the canaries' verdicts with their median time to a decision. The same numbers as <code>shipgate metrics</code> gives for each month.</p>\n",
    );
    for (env, records) in site.months {
        let m = months_of(site, env, records);
        let id = slug(env);
        let _ = writeln!(
            body,
            "<section aria-labelledby=\"env-{id}\"><h2 id=\"env-{id}\">{}</h2>",
            Esc(env)
        );
        if m.labels.is_empty() {
            body.push_str("<p>Nothing was promoted here yet.</p></section>\n");
            continue;
        }
        let series: [(&str, &str, &str, Vec<Option<f64>>); 6] = [
            (
                "deployments",
                "Deployments per month",
                "",
                m.metrics
                    .iter()
                    .map(|x| Some(x.deployments as f64))
                    .collect(),
            ),
            (
                "lead",
                "Lead time for changes, median, hours",
                "h",
                m.metrics
                    .iter()
                    .map(|x| x.lead_time_median_s.map(|s| s / 3600.0))
                    .collect(),
            ),
            (
                "cfr",
                "Change failure rate, percent",
                "%",
                m.metrics
                    .iter()
                    .map(|x| x.change_failure_rate.map(|r| r * 100.0))
                    .collect(),
            ),
            (
                "ttr",
                "Time to restore, median, minutes",
                "min",
                m.metrics
                    .iter()
                    .map(|x| x.time_to_restore_median_s.map(|s| s / 60.0))
                    .collect(),
            ),
            (
                "rework",
                "Rework rate, percent",
                "%",
                m.metrics
                    .iter()
                    .map(|x| x.rework_rate.map(|r| r * 100.0))
                    .collect(),
            ),
            (
                "decision",
                "Canary time to decision, median, seconds",
                "s",
                m.metrics
                    .iter()
                    .map(|x| x.canary_decision_median_s)
                    .collect(),
            ),
        ];
        body.push_str("<div class=\"charts\">");
        for (key, title, unit, values) in &series {
            let _ = write!(
                body,
                "<figure>{}<figcaption>{title}</figcaption></figure>",
                svg::bars(&format!("c-{id}-{key}"), title, unit, &m.labels, values)
            );
        }
        body.push_str("</div>\n");
        let mut rows = String::new();
        for (i, month) in m.labels.iter().enumerate() {
            let x = &m.metrics[i];
            let (pass, fail, decision) = (
                x.canaries_passed,
                x.canaries_failed,
                x.canary_decision_median_s,
            );
            let pct = |r: Option<f64>| or_dash(r.map(|r| format!("{:.1} %", r * 100.0)));
            let span = |s: Option<f64>| {
                or_dash(s.map(|s| {
                    shipgate_stdx::duration::HumanDuration(std::time::Duration::from_secs_f64(
                        s.max(0.0),
                    ))
                    .to_string()
                }))
            };
            let _ = writeln!(
                rows,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{pass} / {fail}</td><td>{}</td></tr>",
                Esc(month),
                x.deployments,
                span(x.lead_time_median_s),
                pct(x.change_failure_rate),
                span(x.time_to_restore_median_s),
                pct(x.rework_rate),
                pct(x.deployment_success_rate),
                span(decision),
            );
        }
        body.push_str(&table(
            &format!("Delivery of {env} by month"),
            &head(&[
                "Month",
                "Deployments",
                "Lead time (median)",
                "Change failure rate",
                "Time to restore (median)",
                "Rework rate",
                "Success rate",
                "Canaries passed / failed",
                "Canary time to decision (median)",
            ]),
            &rows,
        ));
        body.push_str("</section>\n");
    }
    page(frame, "Delivery", 0, Section::Delivery, &body)
}

#[cfg(test)]
mod tests;
