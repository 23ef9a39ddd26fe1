//! `shipgate canary analyze` (judge a rollout that Argo Rollouts or Flagger moves, until the
//! judge decides: exit 0 pass, 1 fail or not enough evidence in time, 2 could not run) and
//! `shipgate canary serve` (the same verdict over HTTP), through
//! `shipgate_canary::analysis` and `shipgate_canary::serve`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clap::Args;
use shipgate_canary::analysis::{Analysis, Subject, analyze};
use shipgate_canary::serve::{PrometheusBackend, ServeOptions, serve};
use shipgate_canary::{CanarySettings, Prometheus, Window};
use shipgate_judge::Verdict;
use shipgate_stdx::duration::HumanDuration;
use shipgate_stdx::names::{EnvName, PodHash, Version};

use crate::actions::{errln, outln};
use crate::cli::{EXIT_NO, Global, hinted};

/// Who is judged, as the flags say.
#[derive(Debug, Args)]
pub struct SubjectArgs {
    /// The environment (fills `{{env}}` in queries)
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The canary's version (fills `{{version}}`)
    #[arg(long, value_name = "VERSION")]
    pub canary_version: Option<String>,
    /// The baseline's version (fills `{{baseline_version}}`)
    #[arg(long, value_name = "VERSION")]
    pub baseline_version: Option<String>,
    /// The canary's pod-template hash, e.g. Argo Rollouts' `rollouts-pod-template-hash`
    /// (fills `{{canary_hash}}`; in an AnalysisTemplate, from `podTemplateHashValue: Latest`)
    #[arg(long, value_name = "HASH")]
    pub canary_hash: Option<String>,
    /// The stable pods' pod-template hash (fills `{{stable_hash}}`; `podTemplateHashValue:
    /// Stable`)
    #[arg(long, value_name = "HASH")]
    pub stable_hash: Option<String>,
}

impl SubjectArgs {
    /// The subject, every name checked before any query is built from it.
    fn subject(&self) -> anyhow::Result<Subject> {
        let name_hint = "use 1 to 63 letters, digits, `-` and `_`";
        let hash = |flag: &str, v: &Option<String>| {
            v.as_deref()
                .map(|v| PodHash::parse(v).map_err(|e| hinted(format!("{flag}: {e}"), name_hint)))
                .transpose()
        };
        let version = |flag: &str, v: &Option<String>| {
            v.as_deref()
                .map(|v| {
                    Version::parse(v).map_err(|e| {
                        hinted(
                            format!("{flag}: {e}"),
                            "pass the version as released, e.g. 1.4.0",
                        )
                    })
                })
                .transpose()
        };
        Ok(Subject {
            env: EnvName::parse(&self.env).map_err(|e| {
                hinted(
                    format!("--env: {e}"),
                    "use a name from [environments] order",
                )
            })?,
            canary_version: version("--canary-version", &self.canary_version)?,
            baseline_version: version("--baseline-version", &self.baseline_version)?,
            canary_hash: hash("--canary-hash", &self.canary_hash)?,
            stable_hash: hash("--stable-hash", &self.stable_hash)?,
        })
    }
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub subject: SubjectArgs,
    /// When the rollout began: RFC 3339 or Unix seconds (default: now)
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Judge for this long, then exit 0 only if the judge passes (default: exit at the
    /// first pass; at the latest after `max-duration`)
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to listen: ADDR:PORT (in a cluster 0.0.0.0:8080)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The environment variable holding the bearer token every /v1 request must carry
    #[arg(long, value_name = "NAME")]
    pub token_env: Option<String>,
    /// Verdicts computed at once (more wait, within --timeout)
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub max_concurrent: usize,
    /// Requests per second served (more get 429)
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub rate: u32,
    /// The longest a request may take (longer gets 504)
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub timeout: String,
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn duration(flag: &str, text: &str) -> anyhow::Result<Duration> {
    HumanDuration::parse(text)
        .map(|d| d.0)
        .map_err(|e| hinted(format!("{flag}: {e}"), "e.g. 10m, 90s, 1h"))
}

/// The environment's effective `[canary]` and its Prometheus; its warnings printed.
fn settings(global: &Global, env: &EnvName) -> anyhow::Result<CanarySettings> {
    let all = global.settings()?;
    crate::config_cmd::warn_canary(global, &all, all.canary.warnings_for_env(env));
    let settings = all
        .canary
        .for_env(env)
        .map_err(shipgate_canary::RunError::Settings)?;
    Ok(settings)
}

fn line(a: &Analysis, t: f64) -> String {
    let metric = a
        .metric
        .as_deref()
        .map(|m| format!(" ({m})"))
        .unwrap_or_default();
    format!(
        "analysis: t={t:.0}s, {} intervals: {}{metric}: {}",
        a.intervals,
        a.verdict.as_str(),
        a.reason
    )
}

pub fn analyze_run(global: &Global, args: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let subject = args.subject.subject()?;
    let settings = settings(global, &subject.env)?;
    let gates = &settings.gates;
    if let Some(missing) = subject.missing(gates) {
        return Err(shipgate_canary::AnalysisError::Missing(missing).into());
    }
    let Some(config) = &settings.prometheus else {
        return Err(hinted(
            "canary analyze reads Prometheus (range queries since the rollout began); [canary.prometheus] is not set",
            "add [canary.prometheus] with url = \"http://prometheus:9090\"",
        ));
    };
    let prometheus = Prometheus::new(config, |name: &str| std::env::var(name).ok())
        .map_err(shipgate_canary::RunError::Provider)?;
    let now = unix_now();
    let since = match &args.since {
        None => now,
        Some(t) => crate::capture_cmd::parse_time("--since", t, Some(now))?,
    };
    let limit = match &args.duration {
        Some(d) => duration("--duration", d)?,
        None => gates.rollout.max_duration.0,
    };
    let interval = gates.rollout.interval.secs();
    let (stop, handlers) = shipgate_canary::report::stop_on_signals();
    let result = (|| -> anyhow::Result<(Analysis, bool)> {
        let mut k = ((unix_now() - since) / interval).floor().max(0.0) as u64;
        loop {
            k += 1;
            let until = since + interval * k as f64;
            // Wait for the interval to end (a second more, for the last scrape to land).
            while unix_now() < until + 1.0 {
                if stop.load(std::sync::atomic::Ordering::SeqCst) != 0 {
                    return Err(hinted(
                        "canary analyze was interrupted",
                        "it moves no traffic: nothing to undo",
                    ));
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            let a = analyze(
                gates,
                &subject,
                &prometheus,
                Window {
                    from: since,
                    to: until,
                },
            )?;
            errln!("{}", line(&a, until - since));
            let over = until - since >= limit.as_secs_f64();
            match a.verdict {
                Verdict::Fail => return Ok((a, true)),
                Verdict::Pass if args.duration.is_none() || over => return Ok((a, true)),
                _ if over => return Ok((a, false)),
                _ => {}
            }
        }
    })();
    shipgate_canary::report::unregister(handlers);
    let (analysis, decided) = result?;
    if global.json {
        outln!(
            "{}",
            crate::actions::json(&serde_json::to_string_pretty(&analysis)?)
        );
    }
    Ok(match (analysis.verdict, decided) {
        (Verdict::Pass, _) => {
            errln!("verdict: PASS: {}", analysis.reason);
            ExitCode::SUCCESS
        }
        (Verdict::Fail, _) => {
            errln!("verdict: FAIL: {}", analysis.reason);
            ExitCode::from(EXIT_NO)
        }
        _ => {
            errln!(
                "verdict: not enough evidence by the end of {}: {} (never a pass on missing evidence)",
                HumanDuration(limit),
                analysis.reason
            );
            ExitCode::from(EXIT_NO)
        }
    })
}

pub fn serve_run(global: &Global, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let all = global.settings()?;
    crate::config_cmd::warn_canary(global, &all, all.canary.warnings());
    let token = match &args.token_env {
        None => None,
        Some(name) => Some(
            std::env::var(name)
                .ok()
                .filter(|t| !t.trim().is_empty())
                .ok_or_else(|| {
                    hinted(
                        format!("--token-env {name}: the variable is not set"),
                        format!("export {name}=… (a long random token), or leave --token-env out on a trusted network"),
                    )
                })?,
        ),
    };
    let options = ServeOptions {
        token,
        max_concurrent: args.max_concurrent.max(1),
        rate: args.rate.max(1),
        timeout: duration("--timeout", &args.timeout)?,
    };
    let listener = listen(&args.listen).map_err(|e| {
        hinted(
            format!("cannot listen on {}: {e}", args.listen),
            "give --listen ADDR:PORT with a free port",
        )
    })?;
    let backend = Arc::new(PrometheusBackend::new(
        all.canary.clone(),
        Box::new(|name: &str| std::env::var(name).ok()),
    ));
    let (stop, handlers) = shipgate_canary::report::stop_on_signals();
    let result = serve(listener, backend, options, stop, |addr| {
        errln!("canary serve: listening on http://{addr} (GET /v1/verdict, /healthz)");
    });
    shipgate_canary::report::unregister(handlers);
    result?;
    errln!("canary serve: stopped");
    Ok(ExitCode::SUCCESS)
}

/// A listener on `addr` with a backlog of 1,024 connections: std's 128 overflows when
/// Argo Rollouts or a load test opens 200 at once, and each connection dropped from the
/// queue waits a second for the client's retry (measured: p99 1,034 ms, against 132 ms
/// with 1,024; `cargo xtask bench serve`).
fn listen(addr: &str) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    use std::net::ToSocketAddrs as _;
    let mut last = None;
    for addr in addr.to_socket_addrs()? {
        let bound = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
            .and_then(|socket| {
                #[cfg(unix)]
                socket.set_reuse_address(true)?;
                socket.bind(&addr.into())?;
                socket.listen(1024)?;
                Ok(socket)
            });
        match bound {
            Ok(socket) => return Ok(socket.into()),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address to listen on")
    }))
}
