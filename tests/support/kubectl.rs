//! A stand-in `kubectl` (tests/support/kubectl.py) on a test's PATH: it accepts only the
//! subcommands and flags the real kubectl and Argo Rollouts plugin define, emulates `get`,
//! `patch --type=json`, `argo rollouts promote` and `abort` on objects in a JSON file, and
//! logs every invocation and every change of traffic.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// The stand-in, installed in a directory of its own.
pub struct FakeKube {
    /// The directory with `kubectl`, to put first on PATH.
    pub bin: PathBuf,
    state: PathBuf,
    log: PathBuf,
}

impl FakeKube {
    /// Installs the stand-in in `dir/bin` with `objects` (`TYPE/NAMESPACE/NAME` → object);
    /// `lag`: a Rollout's controller acts one invocation after a promotion.
    pub fn install(dir: &Path, objects: Value, lag: bool) -> FakeKube {
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        let path = bin.join("kubectl");
        std::fs::write(&path, include_str!("kubectl.py")).expect("write");
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let kube = FakeKube {
            state: dir.join("kube-state.json"),
            log: dir.join("kube.log"),
            bin,
        };
        std::fs::write(
            &kube.state,
            json!({"objects": objects, "lag": lag}).to_string(),
        )
        .expect("write state");
        kube
    }

    /// The variables a command needs to find the stand-in first.
    pub fn envs(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "PATH",
                format!(
                    "{}:{}",
                    self.bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            ),
            ("FAKE_KUBE_STATE", self.state.display().to_string()),
            ("FAKE_KUBE_LOG", self.log.display().to_string()),
        ]
    }

    fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    /// The invocations' arguments, in order.
    pub fn commands(&self) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter_map(|l| l.strip_prefix("$ ").map(String::from))
            .collect()
    }

    /// The changes of traffic, in order (`rollout NAME weight W`, `TYPE NAME weights W…`).
    pub fn traffic(&self) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| !l.starts_with("$ "))
            .collect()
    }
}

/// A Rollout `name` in `namespace` with canary `steps`, updating (its current pods are not
/// its stable ones) and paused at step `paused_at` with `weight` % on the canary.
pub fn rollout(namespace: &str, name: &str, steps: Value, paused_at: usize, weight: u8) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"strategy": {"canary": {"steps": steps}}},
        "status": {
            "currentStepIndex": paused_at,
            "currentPodHash": "7f9c6b",
            "stableRS": "5d8f4c",
            "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T00:00:00Z"}],
            "weight": weight,
        },
    })
}
