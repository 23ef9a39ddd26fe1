//! The container image release.yml publishes: `docker/context.sh` run as the image job runs
//! it, on archives laid out as `cargo xtask dist` packs them in the musl build jobs, then
//! `docker/Dockerfile` resolved against the context it made for each platform of the job;
//! and the job itself (its order, permissions, names, provenance and pins) read from
//! release.yml. No image is built here: the checks are what an image build would need.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use shipgate_doc::{Dialect, FileId};

#[path = "support/docs.rs"]
mod docs;
#[path = "support/outputs.rs"]
mod outputs;
use outputs::parse_outputs;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A workflow as JSON.
fn workflow(path: &str) -> Value {
    let parsed = shipgate_doc::yaml::parse(&read(path), FileId(0), Dialect::Yaml12)
        .unwrap_or_else(|e| panic!("{path}: {e:?}"));
    shipgate_doc::node::to_json(&parsed.documents[0].root)
}

fn release_yml() -> Value {
    workflow(".github/workflows/release.yml")
}

/// The step of `job` that uses `action` (owner/name, any pin).
fn step<'a>(job: &'a Value, action: &str) -> &'a Value {
    job["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with(&format!("{action}@")))
        })
        .unwrap_or_else(|| panic!("no step uses {action}"))
}

/// The image's name as the repository's URL in Cargo.toml makes it: ghcr.io/<owner>/<name>.
fn documented_image() -> (String, String) {
    let cargo: toml::Table = read("Cargo.toml").parse().expect("Cargo.toml");
    let url = cargo["workspace"]["package"]["repository"]
        .as_str()
        .expect("repository");
    let repository = url
        .strip_prefix("https://github.com/")
        .expect("a GitHub repository")
        .to_string();
    (format!("ghcr.io/{}", repository.to_lowercase()), repository)
}

/// Docker's architecture → the Rust target whose binary the image carries for it.
fn musl_target(arch: &str) -> &'static str {
    match arch {
        "amd64" => "x86_64-unknown-linux-musl",
        "arm64" => "aarch64-unknown-linux-musl",
        other => panic!("no musl target for {other}"),
    }
}

/// The build matrix's musl targets with their runners.
fn musl_builds(yml: &Value) -> BTreeMap<String, String> {
    yml["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .expect("matrix")
        .iter()
        .filter_map(|e| {
            let target = e["target"].as_str().filter(|t| t.ends_with("-musl"))?;
            Some((target.to_string(), e["runner"].as_str()?.to_string()))
        })
        .collect()
}

/// `DIST/shipgate-<target>.tar.gz` as `cargo xtask dist` lays it out, made with the system
/// tar: a stand-in binary that prints its target, and the licences.
fn pack(dist: &Path, target: &str) {
    let staging = dist.join("staging");
    let top = staging.join(format!("shipgate-{target}"));
    std::fs::create_dir_all(&top).expect("mkdir");
    let exe = top.join("shipgate");
    std::fs::write(&exe, format!("#!/bin/sh\necho {target}\n")).expect("stub");
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    for licence in ["LICENSE-MIT", "LICENSE-APACHE"] {
        std::fs::copy(root().join(licence), top.join(licence)).expect("licence");
    }
    let archive = dist.join(format!("shipgate-{target}.tar.gz"));
    let out = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(&staging)
        .arg(format!("shipgate-{target}"))
        .output()
        .expect("tar");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `docker/context.sh DIST CONTEXT` as the image job runs it, in a checkout (`root()`).
fn context_sh(dist: &Path, context: &Path, version: &str, output: &Path) -> Output {
    Command::new("bash")
        .arg(root().join("docker/context.sh"))
        .arg(dist)
        .arg(context)
        .current_dir(root())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("VERSION", version)
        .env("GITHUB_REPOSITORY", documented_image().1)
        .env("GITHUB_OUTPUT", output)
        .output()
        .expect("bash runs")
}

/// The Dockerfile's instructions: comments dropped, continued lines joined.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') || (t.is_empty() && current.is_empty()) {
            continue;
        }
        match t.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(t);
                let (word, rest) = current.split_once(' ').unwrap_or((&current, ""));
                out.push((word.to_uppercase(), rest.trim().to_string()));
                current.clear();
            }
        }
    }
    out
}

/// Each COPY's sources (with `${TARGETARCH}` as `arch`) and destination.
fn copies(dockerfile: &[(String, String)], arch: &str) -> Vec<(Vec<String>, String)> {
    dockerfile
        .iter()
        .filter(|(i, _)| i == "COPY")
        .map(|(_, args)| {
            let mut words: Vec<String> = args
                .split_whitespace()
                .filter(|w| !w.starts_with("--"))
                .map(|w| {
                    w.replace("${TARGETARCH}", arch)
                        .replace("$TARGETARCH", arch)
                })
                .collect();
            let dest = words.pop().expect("a destination");
            (words, dest)
        })
        .collect()
}

#[test]
fn the_context_holds_each_platform_s_static_binary_where_the_dockerfile_copies_it() {
    let yml = release_yml();
    let job = &yml["jobs"]["image"];
    let builds = musl_builds(&yml);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dist = tmp.path().join("dist");
    for target in builds.keys() {
        pack(&dist, target);
    }
    let context = tmp.path().join("image");
    let output = tmp.path().join("output");
    let out = context_sh(&dist, &context, "1.4.0", &output);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let values = parse_outputs(&std::fs::read_to_string(&output).expect("outputs"));

    // Every platform the job builds finds what the Dockerfile copies, and its binary is the
    // one built for it, natively.
    let push = step(job, "docker/build-push-action");
    let platforms = push["with"]["platforms"].as_str().expect("platforms");
    assert_eq!(platforms, "linux/amd64,linux/arm64");
    assert_eq!(push["with"]["file"], "docker/Dockerfile");
    let dockerfile = instructions(&read("docker/Dockerfile"));
    for platform in platforms.split(',') {
        let arch = platform.strip_prefix("linux/").expect("a Linux platform");
        let target = musl_target(arch);
        let runner = builds.get(target).map(String::as_str);
        let native = if arch == "arm64" {
            "ubuntu-24.04-arm"
        } else {
            "ubuntu-24.04"
        };
        assert_eq!(runner, Some(native), "{target} is built natively");
        for (sources, dest) in copies(&dockerfile, arch) {
            for source in sources {
                assert!(
                    context.join(&source).is_file(),
                    "{platform}: COPY {source} {dest}: not in the context"
                );
            }
        }
        let binary = context.join(arch).join("shipgate");
        let mode = std::fs::metadata(&binary)
            .expect("binary")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755, "{}", binary.display());
        let ran = Command::new(&binary).output().expect("runs");
        assert_eq!(String::from_utf8_lossy(&ran.stdout).trim(), target);
    }

    // The names: the documented image, the version and `latest`, passed to the build.
    let (image, _) = documented_image();
    assert_eq!(values["image"], image);
    assert_eq!(values["tags"], format!("{image}:1.4.0\n{image}:latest"));
    assert_eq!(values["version"], "1.4.0");
    assert_eq!(values["context"], context.to_string_lossy());
    let run = job["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["id"] == "context")
        .expect("the context step");
    assert_eq!(
        run["run"].as_str().map(str::trim),
        Some("bash docker/context.sh dist \"$RUNNER_TEMP/image\"")
    );
    assert_eq!(
        run["env"]["VERSION"],
        "${{ needs.release.outputs.version }}"
    );
    assert_eq!(push["with"]["tags"], "${{ steps.context.outputs.tags }}");
    assert_eq!(
        push["with"]["context"],
        "${{ steps.context.outputs.context }}"
    );
    assert_eq!(push["with"]["push"], true);
    let args = push["with"]["build-args"].as_str().expect("build-args");
    assert!(
        args.lines()
            .any(|l| l == "VERSION=${{ steps.context.outputs.version }}"),
        "{args}"
    );

    // A prerelease does not move `latest`.
    let output = tmp.path().join("output-rc");
    let out = context_sh(&dist, &tmp.path().join("rc"), "1.5.0-rc.1", &output);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let values = parse_outputs(&std::fs::read_to_string(&output).expect("outputs"));
    assert_eq!(values["tags"], format!("{image}:1.5.0-rc.1"));
}

#[test]
fn a_bad_version_or_a_missing_archive_is_refused_and_nothing_is_output() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dist = tmp.path().join("dist");
    pack(&dist, "x86_64-unknown-linux-musl");
    let output = tmp.path().join("output");
    for version in [
        "latest",
        "1.4",
        "1.4.0+build.7",
        "1.4.0\nlatest",
        "1.4.0;id",
        "",
    ] {
        let out = context_sh(&dist, &tmp.path().join("image"), version, &output);
        assert_eq!(out.status.code(), Some(2), "{version:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("is not a released version"),
            "{version:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = context_sh(&dist, &tmp.path().join("image"), "1.4.0", &output);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("shipgate-aarch64-unknown-linux-musl.tar.gz is missing"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!output.exists(), "nothing is output");
    assert!(!tmp.path().join("image").exists(), "no context is made");
}

#[test]
fn the_image_runs_the_static_binary_as_a_numeric_non_root_user() {
    let dockerfile = instructions(&read("docker/Dockerfile"));
    let of = |word: &str| -> Vec<&str> {
        dockerfile
            .iter()
            .filter(|(i, _)| i == word)
            .map(|(_, a)| a.as_str())
            .collect()
    };
    // One stage, on distroless static as its nonroot variant; nothing run at build time
    // (so the other architecture's image needs no emulation).
    assert_eq!(of("FROM"), ["gcr.io/distroless/static-debian12:nonroot"]);
    assert!(of("RUN").is_empty(), "{:?}", of("RUN"));
    let user = of("USER");
    assert_eq!(user.len(), 1, "{user:?}");
    let (uid, gid) = user[0].split_once(':').expect("USER uid:gid");
    for id in [uid, gid] {
        let n: u32 = id.parse().expect("a numeric id, for runAsNonRoot");
        assert_ne!(n, 0, "root");
    }
    assert_eq!(of("ENTRYPOINT"), [r#"["/shipgate"]"#]);
    let binary = copies(&dockerfile, "amd64")
        .into_iter()
        .find(|(_, dest)| dest == "/shipgate")
        .expect("a COPY to /shipgate");
    assert_eq!(binary.0, ["amd64/shipgate"]);

    // OCI labels: the repository, the workspace's licence, the version built.
    let cargo: toml::Table = read("Cargo.toml").parse().expect("Cargo.toml");
    let package = &cargo["workspace"]["package"];
    let labels = of("LABEL").join(" ");
    for (key, want) in [
        (
            "source",
            package["repository"].as_str().expect("repository"),
        ),
        ("licenses", package["license"].as_str().expect("license")),
        ("version", "${VERSION}"),
    ] {
        let label = format!("org.opencontainers.image.{key}=\"{want}\"");
        assert!(labels.contains(&label), "{label} in {labels}");
    }
    assert!(of("ARG").contains(&"TARGETARCH"), "{:?}", of("ARG"));
}

#[test]
fn the_image_is_published_after_the_musl_builds_and_before_the_release_with_provenance() {
    let yml = release_yml();
    let jobs = yml["jobs"].as_object().expect("jobs");
    let job = &jobs["image"];
    assert_eq!(job["needs"], serde_json::json!(["release", "build"]));
    let publish_needs = jobs["publish"]["needs"].as_array().expect("needs");
    assert!(publish_needs.contains(&"image".into()), "{publish_needs:?}");

    // Only this job may write packages.
    for (name, j) in jobs {
        let packages = j["permissions"]["packages"].as_str();
        let want = (name == "image").then_some("write");
        assert_eq!(packages, want, "job {name}");
    }
    assert!(yml["permissions"]["packages"].is_null());

    // It takes exactly the musl builds' archives.
    let download = step(job, "actions/download-artifact");
    let pattern = download["with"]["pattern"].as_str().expect("pattern");
    let (prefix, suffix) = pattern.split_once('*').expect("a glob");
    let upload = step(&jobs["build"], "actions/upload-artifact");
    assert_eq!(upload["with"]["name"], "dist-${{ matrix.target }}");
    let targets: Vec<&str> = yml["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .expect("matrix")
        .iter()
        .filter_map(|e| e["target"].as_str())
        .collect();
    let taken: Vec<&str> = targets
        .iter()
        .copied()
        .filter(|t| {
            let name = format!("dist-{t}");
            name.starts_with(prefix) && name.ends_with(suffix)
        })
        .collect();
    assert_eq!(
        taken,
        ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"]
    );

    let login = step(job, "docker/login-action");
    assert_eq!(login["with"]["registry"], "ghcr.io");
    assert_eq!(login["with"]["password"], "${{ github.token }}");
    step(job, "docker/setup-buildx-action");
    let push = step(job, "docker/build-push-action");
    assert_eq!(push["id"], "push");
    let attest = step(job, "actions/attest-build-provenance");
    assert_eq!(
        attest["with"]["subject-name"],
        "${{ steps.context.outputs.image }}"
    );
    assert_eq!(
        attest["with"]["subject-digest"],
        "${{ steps.push.outputs.digest }}"
    );
    assert_eq!(attest["with"]["push-to-registry"], true);
}

#[test]
fn every_action_is_pinned_by_commit_and_no_expression_is_in_a_script() {
    for file in [
        "release.yml",
        "ci.yml",
        "deploy.yml",
        "deploy-environment.yml",
    ] {
        let path = format!(".github/workflows/{file}");
        for line in read(&path).lines() {
            let Some((_, reference)) = line.split_once("uses: ") else {
                continue;
            };
            if reference.starts_with("./") {
                continue;
            }
            let (_, pin) = reference.split_once('@').expect("a pinned action");
            let (sha, tag) = pin.split_once(" # ").unwrap_or((pin, ""));
            assert!(
                sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
                "{path}: {line}"
            );
            assert!(
                tag.starts_with('v'),
                "{path}: the tag beside the SHA: {line}"
            );
        }
        let yml = workflow(&path);
        for (name, job) in yml["jobs"].as_object().expect("jobs") {
            for s in job["steps"].as_array().into_iter().flatten() {
                if let Some(script) = s["run"].as_str() {
                    assert!(!script.contains("${{"), "{path} job {name}: {script}");
                }
            }
        }
    }
}

#[test]
fn the_documented_image_is_the_published_one() {
    let (image, _) = documented_image();
    let mut texts = docs::pages();
    assert!(
        texts
            .iter()
            .any(|(_, text)| text.contains(&format!("docker run --rm {image}:1.4.0 --version"))),
        "the docs show how to run {image}"
    );
    // Wherever the docs or `shipgate init`'s manifests name a shipgate image, it is this one.
    texts.push(("ARCHITECTURE.md".to_string(), read("ARCHITECTURE.md")));
    let mut dirs = vec![root().join("crates/shipgate/src/init")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("init").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                texts.push((path.display().to_string(), text));
            }
        }
    }
    for (name, text) in texts {
        for (at, _) in text.match_indices("ghcr.io/") {
            let named: String = text[at..]
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, ':' | '`' | '"' | '\''))
                .collect();
            if named.ends_with("/shipgate") {
                assert_eq!(named, image, "{name}");
            }
        }
    }
}
