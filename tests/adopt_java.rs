//! Adopting shipgate in a Java service, end to end through the real binary, as the guide
//! "Adopt shipgate in a Java service" tells it: a Spring Boot / Maven repository with a
//! bare origin gets `shipgate init`; a `feat:` commit is released (pom.xml's own version
//! 1.3.0 → 1.4.0, the Spring Boot parent's untouched, tag v1.4.0 pushed); 1.4.0 is promoted
//! to dev, its canary rehearsed on a recording through the Argo Rollouts actuator,
//! verified, promoted to staging; a fresh clone of origin shows the ledger, and a dry run
//! to prod names the gates still missing. A SNAPSHOT pom and a Gradle build of Spring
//! Initializr are released at their versions, the next SNAPSHOT prepared after the tag.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

#[path = "support/git_repo.rs"]
mod git_repo;
use git_repo::{Repo, git_in as git, shipgate_in, stderr};
#[allow(dead_code)] // FakeKube::envs: `sg` sets the same variables from `bin`
#[path = "support/kubectl.rs"]
mod kubectl;
use kubectl::{FakeKube, rollout};
#[path = "support/spring.rs"]
mod spring;
use spring::{APP, POM};

/// Tuesday 1 December 2026, 09:00 UTC: outside the weekend freeze `init` writes for prod.
const T0: i64 = 1_796_115_600;

fn at(minutes: i64) -> String {
    jiff::Timestamp::from_second(T0 + minutes * 60)
        .expect("in range")
        .to_string()
}

/// shipgate in `dir` as `who` at `now`, with the stand-in kubectl installed beside `bin`
/// ([`FakeKube::install`]) first on PATH.
fn sg(dir: &Path, bin: &Path, who: &str, now: &str, args: &[&str]) -> Output {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let beside = |name: &str| bin.parent().unwrap_or(bin).join(name).display().to_string();
    shipgate_in(
        dir,
        args,
        &[
            ("SHIPGATE_NOW", now),
            ("GITHUB_ACTOR", who),
            ("PATH", &path),
            ("FAKE_KUBE_STATE", &beside("kube-state.json")),
            ("FAKE_KUBE_LOG", &beside("kube.log")),
        ],
    )
}

/// Like [`sg`], which must exit 0; its stdout.
fn ok(dir: &Path, bin: &Path, who: &str, now: &str, args: &[&str]) -> String {
    let out = sg(dir, bin, who, now, args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The guide's step 4: the Argo Rollouts actuator uncommented, and dev's canary judged on the
/// error rate the recording holds, with the recording's steps.
fn adopt_canary(shipgate_toml: &str) -> String {
    let commands = shipgate_toml
        .replace("# [canary.argo-rollouts]", "[canary.argo-rollouts]")
        .replace("# rollout = ", "rollout = ")
        .replace("# namespace = ", "namespace = ");
    let q = |metric: &str, v: &str| {
        format!(
            "sum(increase({metric}{{version=\"{{{{{v}}}}}\",status=~\"5..\"}}[{{{{interval}}}}]))"
        )
    };
    format!(
        "{commands}\n[canary.env.dev]\nsteps = [{{ weight = 10, hold = \"1m\" }}, {{ weight = 50, hold = \"1m\" }}, {{ weight = 100 }}]\ninterval = \"10s\"\nmax-duration = \"10m\"\n\n\
         [[canary.env.dev.metrics]]\nname = \"error-rate\"\nkind = \"counts\"\nthreshold = 0.02\nmin-requests = 1000\n\
         canary = {{ errors = '{}', requests = '{}' }}\nbaseline = {{ errors = '{}', requests = '{}' }}\n",
        q("http_server_requests_seconds_count", "version"),
        q("http_server_requests_seconds_count", "version").replace(",status=~\"5..\"", ""),
        q("http_server_requests_seconds_count", "baseline_version"),
        q("http_server_requests_seconds_count", "baseline_version").replace(",status=~\"5..\"", ""),
    )
}

/// The project's own `<version>` (after `<artifactId>orders</artifactId>`) and the
/// parent's.
fn pom_versions(pom: &str) -> (String, String) {
    let between = |s: &str, from: &str| -> String {
        let start = s.find(from).expect("anchor") + from.len();
        let rest = &s[start..];
        let v = rest.find("<version>").expect("version") + "<version>".len();
        let end = rest[v..].find("</version>").expect("end");
        rest[v..v + end].to_string()
    };
    (
        between(pom, "<artifactId>orders</artifactId>"),
        between(pom, "<artifactId>spring-boot-starter-parent</artifactId>"),
    )
}

/// The guide's step 5: `feat: orders can be cancelled` in the application, then `release
/// --push`; its JSON outcome.
fn release_a_feature(repo: &Repo, bin: &Path) -> Value {
    repo.commit_file(
        "src/main/java/com/example/shop/orders/OrdersApplication.java",
        "feat: orders can be cancelled",
    );
    let out = ok(
        &repo.dir,
        bin,
        "dev-lead",
        &at(1),
        &["--json", "release", "--push"],
    );
    serde_json::from_str(&out).expect("JSON")
}

#[test]
fn a_spring_service_adopts_shipgate_from_init_to_staging() {
    let repo = Repo::with_clock(1_764_000_000, 60);
    let tmp: PathBuf = repo.dir.parent().expect("tmp").to_path_buf();
    // dev's Rollout, as the guide's step 4 has it for the recording's 10 % and 50 %.
    let steps = serde_json::json!([
        {"pause": {}}, {"setWeight": 10}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}
    ]);
    let kube = FakeKube::install(
        &tmp,
        serde_json::json!({
            "rollouts.argoproj.io/orders-dev/orders": rollout("orders-dev", "orders", steps, 0, 0)
        }),
        false,
    );
    let bin = kube.bin.clone();
    let dir = repo.dir.clone();

    // The service as it is before shipgate: released 1.3.0 by hand.
    repo.write("pom.xml", POM);
    repo.write(
        "src/main/java/com/example/shop/orders/OrdersApplication.java",
        APP,
    );
    repo.write(
        "src/main/resources/application.yml",
        "spring:\n  application:\n    name: orders\n",
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "feat: the orders service"]);
    repo.tag("v1.3.0");
    git(&tmp, &["clone", "-q", "--bare", "repo", "origin.git"]);
    let origin = tmp.join("origin.git");
    repo.git(&["remote", "add", "origin", &origin.display().to_string()]);
    repo.git(&["fetch", "-q", "origin"]);
    repo.git(&["branch", "-q", "--set-upstream-to=origin/main", "main"]);

    // 1. shipgate init: the whole setup, pom.xml's version found under its artifactId.
    let answer: Value =
        serde_json::from_str(&ok(&dir, &bin, "dev-lead", &at(0), &["init", "--json"]))
            .expect("JSON");
    assert_eq!(answer["detected"], serde_json::json!(["pom.xml"]));
    for f in [
        ".github/workflows/ci.yml",
        ".github/workflows/release.yml",
        ".github/workflows/deploy.yml",
    ] {
        assert!(
            repo.read(f).contains("uses: shipgate/shipgate@v1"),
            "{f} uses the action"
        );
    }
    let config = repo.read("shipgate.toml");
    assert!(
        config.contains(
            "[[release.files]]\npath = \"pom.xml\"\npattern = \"<artifactId>orders</artifactId> <version>{version}</version>\""
        ),
        "{config}"
    );
    repo.write("shipgate.toml", &adopt_canary(&config));
    ok(&dir, &bin, "dev-lead", &at(0), &["config", "validate"]);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "chore: adopt shipgate"]);
    repo.git(&["push", "-q", "origin", "main", "v1.3.0"]);

    // 2. A feature, released: pom.xml's own version moves, the parent's does not.
    let plan = release_a_feature(&repo, &bin);
    assert_eq!(
        (plan["current"].as_str(), plan["next"].as_str()),
        (Some("1.3.0"), Some("1.4.0")),
        "{plan:#}"
    );
    let pom = repo.read("pom.xml");
    assert_eq!(
        pom_versions(&pom),
        ("1.4.0".to_string(), "3.3.4".to_string())
    );
    assert!(pom.contains("<version>42.7.4</version>"), "{pom}");
    assert_eq!(
        git(&origin, &["tag", "--list", "v1.4.0"]),
        "v1.4.0",
        "the tag is on origin"
    );
    assert_eq!(
        pom_versions(&git(&origin, &["show", "main:pom.xml"])).0,
        "1.4.0"
    );

    // 3. Into dev.
    ok(
        &dir,
        &bin,
        "dev-lead",
        &at(10),
        &["promote", "1.4.0", "--to", "dev", "--push"],
    );
    assert!(
        git(&origin, &["show", "main:environments/dev.toml"]).contains("tag = \"1.4.0\""),
        "dev's file on origin asks for 1.4.0"
    );

    // 4. The canary, rehearsed on a recording: Argo Rollouts' commands, with dev's gates.
    let recording = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/canary/healthy.json")
        .display()
        .to_string();
    let out = ok(
        &dir,
        &bin,
        "dev-lead",
        &at(20),
        &[
            "canary",
            "run",
            "--env",
            "dev",
            "--replay",
            &recording,
            "--canary-version",
            "1.4.0",
            "--baseline-version",
            "1.3.0",
        ],
    );
    assert!(out.contains("promoted"), "{out}");
    assert_eq!(
        kube.traffic(),
        [
            "rollout orders weight 10",
            "rollout orders weight 50",
            "rollout orders weight 100",
        ]
    );
    assert_eq!(
        kube.commands()
            .iter()
            .filter(|c| c.starts_with("argo rollouts"))
            .collect::<Vec<_>>(),
        [
            "argo rollouts promote orders --namespace=orders-dev",
            "argo rollouts promote orders --namespace=orders-dev",
            "argo rollouts promote orders --full --namespace=orders-dev",
        ]
    );

    // 5. Verified in dev, then into staging.
    ok(
        &dir,
        &bin,
        "qa",
        &at(30),
        &[
            "verify", "1.4.0", "--env", "dev", "--result", "pass", "--push",
        ],
    );
    ok(
        &dir,
        &bin,
        "release-manager",
        &at(40),
        &["promote", "1.4.0", "--to", "staging", "--push"],
    );

    // 6. A fresh clone of origin knows what runs where, and why prod must wait.
    git(&tmp, &["clone", "-q", "origin.git", "fresh"]);
    let fresh = tmp.join("fresh");
    git(&fresh, &["config", "user.email", "someone@example.com"]);
    git(&fresh, &["config", "user.name", "someone"]);
    let status: Value =
        serde_json::from_str(&ok(&fresh, &bin, "someone", &at(50), &["--json", "status"]))
            .expect("JSON");
    let text = status.to_string();
    for env in ["dev", "staging"] {
        assert!(text.contains(&format!("\"{env}\"")), "{status:#}");
    }
    assert!(text.contains("1.4.0"), "{status:#}");
    let history: Value = serde_json::from_str(&ok(
        &fresh,
        &bin,
        "someone",
        &at(50),
        &["--json", "history", "--limit", "0"],
    ))
    .expect("JSON");
    let mut entries: Vec<String> = history["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or("-").to_string();
            format!(
                "{} {} {} {}",
                s("kind"),
                s("environment"),
                s("version"),
                s("by")
            )
        })
        .collect();
    entries.reverse();
    assert_eq!(
        entries,
        [
            "promotion dev 1.4.0 dev-lead",
            "verification dev 1.4.0 qa",
            "promotion staging 1.4.0 release-manager",
        ],
        "{history:#}"
    );
    let out = sg(
        &fresh,
        &bin,
        "release-manager",
        &at(60),
        &["--json", "promote", "1.4.0", "--to", "prod", "--dry-run"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let answer: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let failing: Vec<&str> = answer["gates"]
        .as_array()
        .expect("gates")
        .iter()
        .filter(|g| g["passed"] == false)
        .filter_map(|g| g["name"].as_str())
        .collect();
    assert_eq!(
        failing,
        ["previous-environment", "soak", "approvals"],
        "{answer:#}"
    );
}

#[test]
fn a_snapshot_pom_is_released_at_its_version_then_the_next_snapshot_prepared() {
    let repo = Repo::new();
    let bin = repo.dir.parent().expect("tmp").join("bin");
    let dir = repo.dir.clone();
    repo.write(
        "pom.xml",
        &POM.replace(
            "<version>1.3.0</version>",
            "<version>1.3.0-SNAPSHOT</version>",
        ),
    );
    ok(&dir, &bin, "dev", &at(0), &["init"]);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "chore: the orders service"]);
    repo.commit("feat: orders can be cancelled");
    let plan: Value =
        serde_json::from_str(&ok(&dir, &bin, "dev", &at(1), &["--json", "release"])).expect("JSON");
    assert_eq!(
        (plan["current"].as_str(), plan["next"].as_str()),
        (Some("1.3.0-SNAPSHOT"), Some("1.3.0")),
        "{plan:#}"
    );
    assert_eq!(
        pom_versions(&repo.git(&["show", "v1.3.0:pom.xml"])),
        ("1.3.0".to_string(), "3.3.4".to_string()),
        "the release drops -SNAPSHOT"
    );
    assert_eq!(repo.tags(), ["v1.3.0"]);
    // init saw a SNAPSHOT project: the next development version follows the tag
    assert_eq!(
        pom_versions(&repo.read("pom.xml")),
        ("1.3.1-SNAPSHOT".to_string(), "3.3.4".to_string())
    );
    assert_eq!(repo.log()[0], "chore(release): prepare 1.3.1-SNAPSHOT");
}

/// Spring Initializr's Gradle build for orders (Groovy), at `version`.
fn build_gradle(version: &str) -> String {
    format!(
        "plugins {{\n    id 'java'\n    id 'org.springframework.boot' version '3.3.4'\n    id 'io.spring.dependency-management' version '1.1.6'\n}}\n\ngroup = 'com.example.shop'\nversion = '{version}'\n\njava {{\n    toolchain {{\n        languageVersion = JavaLanguageVersion.of(21)\n    }}\n}}\n\ndependencies {{\n    implementation 'org.springframework.boot:spring-boot-starter-web'\n    runtimeOnly 'org.postgresql:postgresql:42.7.4'\n}}\n"
    )
}

#[test]
fn a_gradle_spring_service_releases_its_snapshot_and_prepares_the_next() {
    let repo = Repo::with_clock(1_764_000_000, 60);
    let tmp: PathBuf = repo.dir.parent().expect("tmp").to_path_buf();
    let bin = tmp.join("bin");
    let dir = repo.dir.clone();

    // The service as Spring Initializr makes it: Gradle, version 0.0.1-SNAPSHOT, no tag.
    repo.write("settings.gradle", "rootProject.name = 'orders'\n");
    repo.write("build.gradle", &build_gradle("0.0.1-SNAPSHOT"));
    repo.write(
        "src/main/java/com/example/shop/orders/OrdersApplication.java",
        APP,
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "chore: the orders service"]);
    git(&tmp, &["clone", "-q", "--bare", "repo", "origin.git"]);
    let origin = tmp.join("origin.git");
    repo.git(&["remote", "add", "origin", &origin.display().to_string()]);

    // 1. init: build.gradle's version, by its format; SNAPSHOTs go on after each release.
    let answer: Value =
        serde_json::from_str(&ok(&dir, &bin, "dev-lead", &at(0), &["init", "--json"]))
            .expect("JSON");
    assert_eq!(answer["detected"], serde_json::json!(["build.gradle"]));
    assert_eq!(answer["warnings"], serde_json::json!([]));
    let config = repo.read("shipgate.toml");
    assert!(
        config.contains("\nnext-snapshot = true\n")
            && config.contains("[[release.files]]\npath = \"build.gradle\"\n"),
        "{config}"
    );
    assert!(
        repo.read("environments/base.toml")
            .contains("name = \"orders\"")
    );
    ok(&dir, &bin, "dev-lead", &at(0), &["config", "validate"]);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "chore: adopt shipgate"]);
    repo.git(&["push", "-q", "origin", "main"]);

    // 2. A feature: 0.0.1-SNAPSHOT is released as 0.0.1, then 0.0.2-SNAPSHOT is prepared.
    let out = release_a_feature(&repo, &bin);
    assert_eq!(
        (out["current"].as_str(), out["next"].as_str()),
        (Some("0.0.1-SNAPSHOT"), Some("0.0.1")),
        "{out:#}"
    );
    assert_eq!(
        repo.log()[..2],
        [
            "chore(release): prepare 0.0.2-SNAPSHOT",
            "chore(release): v0.0.1"
        ]
    );
    assert_eq!(
        git(&origin, &["show", "v0.0.1:build.gradle"]),
        build_gradle("0.0.1").trim_end(),
        "the release: only the project's version moved, the plugins' stayed"
    );
    assert_eq!(repo.read("build.gradle"), build_gradle("0.0.2-SNAPSHOT"));
    assert_eq!(
        git(&origin, &["rev-parse", "main"]),
        repo.git(&["rev-parse", "HEAD"]),
        "origin has the prepare commit"
    );

    // 3. The release goes on like Maven's: promoted by its version.
    ok(
        &dir,
        &bin,
        "dev-lead",
        &at(10),
        &["promote", "0.0.1", "--to", "dev", "--push"],
    );
    assert!(
        git(&origin, &["show", "main:environments/dev.toml"]).contains("tag = \"0.0.1\""),
        "dev's file on origin asks for 0.0.1"
    );
}
