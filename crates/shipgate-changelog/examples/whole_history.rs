//! Times the whole-history document for 100,000 commits in 1,000 releases (the issue's
//! benchmark shape): `cargo run --release -p shipgate-changelog --example whole_history`.

use std::time::Instant;

use shipgate_changelog::{
    ChangelogInput, ChangelogSettings, CommitInput, KEEP_A_CHANGELOG, ReleaseInput, Template,
    TemplateSource, build_changelog, render_model,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let kinds = [
        "feat", "fix", "perf", "refactor", "docs", "chore", "test", "feat!",
    ];
    let scopes = ["api", "cli", "git", "canary", "config"];
    let mut releases = Vec::with_capacity(1000);
    let mut n = 100_000u32;
    for r in (0..1000u32).rev() {
        let version = format!("{}.{}.{}", r / 100, (r / 10) % 10, r % 10);
        let commits = (0..100)
            .map(|_| {
                n -= 1;
                let kind = kinds[(n % 8) as usize];
                let scope = scopes[(n % 5) as usize];
                CommitInput {
                    id: format!("{n:040x}"),
                    message: format!("{kind}({scope}): change number {n} of the history (#{n})\n\nA body line about change {n}.\n\nRefs: #{}\n", n / 2),
                    author_name: format!("Dev {}", n % 50),
                    author_email: format!("dev{}@example.com", n % 50),
                    ..Default::default()
                }
            })
            .collect();
        releases.push(ReleaseInput {
            tag: Some(format!("v{version}")),
            previous_tag: (r > 0).then(|| {
                format!(
                    "v{}.{}.{}",
                    (r - 1) / 100,
                    ((r - 1) / 10) % 10,
                    (r - 1) % 10
                )
            }),
            version: Some(version),
            date: Some("2026-11-26".into()),
            commits,
            ..Default::default()
        });
    }
    let input = ChangelogInput {
        releases,
        remote_url: Some("https://github.com/o/r".into()),
    };
    let settings = ChangelogSettings::default();

    let t = Instant::now();
    let mut parsed = 0usize;
    for r in &input.releases {
        for c in &r.commits {
            parsed += usize::from(
                shipgate_version::parse_message(&c.message)
                    .conventional()
                    .is_some(),
            );
        }
    }
    println!(
        "parse_message alone: {:.0} ms ({parsed} conventional)",
        t.elapsed().as_secs_f64() * 1e3
    );
    // the machine is shared: the best of five runs
    let mut built = std::time::Duration::MAX;
    let mut doc = build_changelog(&input, &settings);
    for _ in 0..5 {
        let start = Instant::now();
        doc = build_changelog(&input, &settings);
        built = built.min(start.elapsed());
    }
    let native = Template::new(&TemplateSource::KeepAChangelog)?;
    let t = Instant::now();
    let text = render_model(&doc, &native)?;
    let rendered = t.elapsed();
    let cpu = Instant::now();
    let before = cpu_ms();
    let _ = build_changelog(&input, &settings);
    println!(
        "model CPU time (all threads): {:.0} ms in {:.0} ms",
        cpu_ms() - before,
        cpu.elapsed().as_secs_f64() * 1e3
    );
    println!(
        "model: {:.0} ms; keep-a-changelog (native): {:.0} ms; {} bytes",
        built.as_secs_f64() * 1e3,
        rendered.as_secs_f64() * 1e3,
        text.len()
    );

    let hbs = Template::new(&TemplateSource::Custom {
        name: "kac.hbs".into(),
        text: KEEP_A_CHANGELOG.into(),
    })?;
    let t = Instant::now();
    let text2 = render_model(&doc, &hbs)?;
    println!(
        "keep-a-changelog (handlebars): {:.0} ms; same bytes: {}",
        t.elapsed().as_secs_f64() * 1e3,
        text == text2
    );
    let t = Instant::now();
    let json = serde_json::to_string(&doc)?;
    println!(
        "--context JSON: {:.0} ms, {} bytes",
        t.elapsed().as_secs_f64() * 1e3,
        json.len()
    );
    Ok(())
}

/// This process's user + system CPU time, from /proc (Linux), in ms.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, a)| a);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|x| x.parse::<f64>().ok()).sum()
    });
    ticks * 10.0
}
