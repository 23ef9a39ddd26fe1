#!/usr/bin/env python3
"""A stand-in for kubectl and its Argo Rollouts plugin in shipgate's tests.

It accepts only subcommands and flags the real tools define, and refuses anything else the
way they do (exit 1, `unknown command` / `unknown flag`), so that a template naming a
command that does not exist fails its test:

- kubectl's own: `get TYPE NAME`, `patch TYPE NAME --type=json -p PATCH` (kubectl's
  `patch --help`: -p/--patch, --type json|merge|strategic, --patch-file, --dry-run, --local,
  -o/--output, --field-manager, --subresource…), with kubectl's global flags
  (-n/--namespace, --context, --kubeconfig…);
- the plugin's commands, from argoproj/argo-rollouts pkg/kubectl-argo-rollouts/cmd/cmd.go:
  create get lint list pause promote restart version abort retry terminate set undo
  dashboard status notifications completion; `set` has one subcommand, `image`
  (cmd/set/set.go); `promote` takes one ROLLOUT_NAME and --full (cmd/promote/promote.go);
  `abort` takes ROLLOUT_NAMEs (cmd/abort/abort.go).

What it emulates, it emulates on objects in a JSON file ($FAKE_KUBE_STATE): `get … -o json`
prints one, `patch --type=json` applies RFC 6902 operations (the patch may be JSON or YAML
flow, as kubectl converts YAML), and a Rollout's controller runs its steps up to the next
`pause: {}` after a `promote` (one invocation later when `lag` is set, as a real controller
is not instant). Each invocation is logged to $FAKE_KUBE_LOG as `$ ARGS`, each change of
traffic as `TYPE NAME weights W…` or `rollout NAME weight W`.
"""
import json
import os
import sys

STATE = os.environ["FAKE_KUBE_STATE"]
LOG = os.environ["FAKE_KUBE_LOG"]

TYPES = {
    "rollouts.argoproj.io": ["rollout", "rollouts", "ro", "rollouts.argoproj.io"],
    "virtualservices.networking.istio.io": ["virtualservice", "virtualservices", "vs", "virtualservices.networking.istio.io"],
    "httproutes.gateway.networking.k8s.io": ["httproute", "httproutes", "httproutes.gateway.networking.k8s.io"],
}
KUBECTL = {"annotate", "api-resources", "api-versions", "apply", "attach", "auth", "autoscale", "certificate",
           "cluster-info", "completion", "config", "cordon", "cp", "create", "debug", "delete", "describe", "diff",
           "drain", "edit", "events", "exec", "explain", "expose", "get", "kustomize", "label", "logs", "options",
           "patch", "plugin", "port-forward", "proxy", "replace", "rollout", "run", "scale", "set", "taint", "top",
           "uncordon", "version", "wait"}
PLUGIN = {"create", "get", "lint", "list", "pause", "promote", "restart", "version", "abort", "retry",
          "terminate", "set", "undo", "dashboard", "status", "notifications", "completion"}
# kubectl's global flags that take a value (genericclioptions.ConfigFlags and kubectl's own)
GLOBAL = {"-n": "namespace", "--namespace": "namespace", "--context": "context", "--kubeconfig": "kubeconfig",
          "--cluster": "cluster", "--user": "user", "-s": "server", "--server": "server", "--token": "token",
          "--request-timeout": "request-timeout", "--as": "as", "--as-group": "as-group",
          "--certificate-authority": "certificate-authority", "--tls-server-name": "tls-server-name",
          "-v": "v", "--v": "v"}


def fail(message, code=1):
    sys.stderr.write(f"error: {message}\n")
    sys.exit(code)


def log(line):
    with open(LOG, "a") as f:
        f.write(line + "\n")


def load():
    with open(STATE) as f:
        return json.load(f)


def save(state):
    with open(STATE + ".tmp", "w") as f:
        json.dump(state, f)
    os.replace(STATE + ".tmp", STATE)


def parse(args, values, bools):
    """Positional arguments and flags; any flag not in `values`, `bools` or GLOBAL is refused."""
    positional, flags = [], {}
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("-") and a != "-":
            name, eq, value = a.partition("=")
            if not eq and not name.startswith("--") and len(name) > 2:
                name, value, eq = name[:2], name[2:], "="
            key = values.get(name) or GLOBAL.get(name)
            if key:
                if not eq:
                    i += 1
                    if i >= len(args):
                        fail(f"flag needs an argument: {name}")
                    value = args[i]
                flags[key] = value
            elif name in bools and (not eq or value in ("true", "false")):
                flags[bools[name]] = value != "false"
            else:
                fail(f"unknown flag: {name}")
        else:
            positional.append(a)
        i += 1
    return positional, flags


def kind_of(text):
    for kind, names in TYPES.items():
        if text in names:
            return kind
    fail(f'the server doesn\'t have a resource type "{text}"')


def target(positional, flags):
    """TYPE NAME or TYPE/NAME, its key in the state."""
    if len(positional) == 1 and "/" in positional[0]:
        positional = positional[0].split("/", 1)
    if len(positional) != 2:
        fail("expected TYPE NAME")
    kind = kind_of(positional[0])
    return kind, positional[1], f"{kind}/{flags.get('namespace', 'default')}/{positional[1]}"


def settle(rollout):
    """The controller: from the current step on, set weights until a pause: {} or the end."""
    steps = rollout["spec"]["strategy"]["canary"]["steps"]
    status = rollout["status"]
    i = status.get("currentStepIndex", 0)
    while i < len(steps):
        step = steps[i]
        if "setWeight" in step:
            status["weight"] = step["setWeight"]
            log(f"rollout {rollout['metadata']['name']} weight {status['weight']}")
        elif "pause" in step:
            status["currentStepIndex"] = i
            status["pauseConditions"] = [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T00:00:00Z"}]
            return
        i += 1
    status["currentStepIndex"] = len(steps)
    status["stableRS"] = status["currentPodHash"]
    status["weight"] = 100
    status.pop("pauseConditions", None)
    log(f"rollout {rollout['metadata']['name']} weight 100")


def controller(state):
    """A promotion's effect, seen one invocation after it when `lag` is set."""
    for key, obj in state["objects"].items():
        if obj.get("moving", 0) > 0:
            obj["moving"] -= 1
            if obj["moving"] == 0:
                del obj["moving"]
                settle(obj)


def rollout_of(state, name, flags):
    key = f"rollouts.argoproj.io/{flags.get('namespace', 'default')}/{name}"
    if key not in state["objects"]:
        fail(f'rollouts.argoproj.io "{name}" not found')
    return state["objects"][key]


def plugin(state, args):
    if not args:
        fail("usage: kubectl argo rollouts COMMAND")
    command, rest = args[0], args[1:]
    if command not in PLUGIN:
        fail(f'unknown command "{command}" for "kubectl-argo-rollouts"')
    if command == "set":
        sub = rest[0] if rest else ""
        if sub != "image":
            fail(f'unknown command "{sub}" for "kubectl-argo-rollouts set"')
        fail("the stand-in does not emulate `set image`", 3)
    if command == "promote":
        positional, flags = parse(rest, {}, {"--full": "full", "--skip-current-step": "skip", "-c": "skip",
                                             "--skip-all-steps": "all", "-a": "all"})
        if len(positional) != 1:
            fail("promote takes exactly one ROLLOUT_NAME")
        rollout = rollout_of(state, positional[0], flags)
        status = rollout["status"]
        steps = rollout["spec"]["strategy"]["canary"]["steps"]
        if flags.get("full"):
            status["currentStepIndex"] = len(steps)
            rollout.pop("moving", None)
            settle(rollout)
        elif status.get("pauseConditions"):
            # promote.go: clear the pause conditions; the controller moves past the pause.
            del status["pauseConditions"]
            status["currentStepIndex"] += 1
            if state.get("lag"):
                rollout["moving"] = 2
            else:
                settle(rollout)
        else:
            # promote.go, not paused: currentStepIndex one step on.
            status["currentStepIndex"] = min(status.get("currentStepIndex", 0) + 1, len(steps))
        print(f"rollout '{positional[0]}' promoted")
        return
    if command == "abort":
        positional, flags = parse(rest, {}, {})
        if not positional:
            fail("abort takes ROLLOUT_NAME")
        for name in positional:
            rollout = rollout_of(state, name, flags)
            rollout.pop("moving", None)
            rollout["status"]["abort"] = True
            rollout["status"].pop("pauseConditions", None)
            rollout["status"]["weight"] = 0
            log(f"rollout {name} weight 0")
            print(f"rollout '{name}' aborted")
        return
    fail(f"the stand-in does not emulate `{command}`", 3)


def get(state, args):
    positional, flags = parse(args, {"-o": "output", "--output": "output", "-l": "selector",
                                     "--selector": "selector"},
                              {"-A": "all", "--all-namespaces": "all", "-w": "watch", "--watch": "watch"})
    if flags.get("output") != "json":
        fail("the stand-in emulates `get` with --output=json only", 3)
    _, _, key = target(positional, flags)
    if key not in state["objects"]:
        fail(f"{key} not found")
    obj = dict(state["objects"][key])
    obj.pop("moving", None)
    print(json.dumps(obj))


def flow(text):
    """JSON, or YAML flow (`[{op: replace, path: /a/0, value: 5}]`), as kubectl accepts for -p."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    pos = 0

    def space():
        nonlocal pos
        while pos < len(text) and text[pos] in " \t\n":
            pos += 1

    def value():
        nonlocal pos
        space()
        c = text[pos]
        if c in "[{":
            close = "]" if c == "[" else "}"
            pos += 1
            out = [] if c == "[" else {}
            space()
            while text[pos] != close:
                if c == "[":
                    out.append(value())
                else:
                    k = scalar(":")
                    pos += 1
                    out[k] = value()
                space()
                if text[pos] == ",":
                    pos += 1
                    space()
            pos += 1
            return out
        return scalar(",]}")

    def scalar(stops):
        nonlocal pos
        space()
        start = pos
        while pos < len(text) and text[pos] not in stops:
            pos += 1
        word = text[start:pos].strip()
        if word.startswith(("'", '"')):
            return word[1:-1]
        try:
            return int(word)
        except ValueError:
            return word

    result = value()
    space()
    if pos != len(text):
        fail("the patch is not JSON or YAML flow")
    return result


def pointer(obj, path):
    parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
    for p in parts[:-1]:
        obj = obj[int(p)] if isinstance(obj, list) else obj[p]
    return obj, parts[-1]


def patch(state, args):
    positional, flags = parse(args, {"-p": "patch", "--patch": "patch", "--type": "type", "--patch-file": "patch-file",
                                     "--dry-run": "dry-run", "-o": "output", "--output": "output",
                                     "--field-manager": "field-manager", "--subresource": "subresource",
                                     "-f": "filename", "--filename": "filename", "-k": "kustomize"},
                              {"--local": "local", "-R": "recursive", "--recursive": "recursive",
                               "--show-managed-fields": "show-managed-fields"})
    if flags.get("type") not in ("json", "merge", "strategic", None):
        fail(f"--type must be one of [json merge strategic], not \"{flags.get('type')}\"")
    if flags.get("type") != "json" or "patch" not in flags:
        fail("the stand-in emulates `patch --type=json -p PATCH` only", 3)
    kind, name, key = target(positional, flags)
    if key not in state["objects"]:
        fail(f'{kind} "{name}" not found')
    obj = json.loads(json.dumps(state["objects"][key]))
    for op in flow(flags["patch"]):
        try:
            parent, last = pointer(obj, op["path"])
            index = int(last) if isinstance(parent, list) else last
            if op["op"] == "test":
                if parent[index] != op["value"]:
                    fail(f"testing value {op['path']} failed: test failed")
            elif op["op"] == "replace":
                parent[index]  # must exist
                parent[index] = op["value"]
            elif op["op"] == "add":
                if isinstance(parent, list):
                    parent.insert(index, op["value"])
                else:
                    parent[index] = op["value"]
            elif op["op"] == "remove":
                del parent[index]
            else:
                fail(f"unexpected op {op['op']}")
        except (KeyError, IndexError, ValueError):
            fail(f"replace operation does not apply: doc is missing path: {op['path']}")
    state["objects"][key] = obj
    spec = obj["spec"]
    if kind.startswith("virtualservices"):
        weights = [r.get("weight") for r in spec["http"][0]["route"]]
    else:
        weights = [b.get("weight") for b in spec["rules"][0]["backendRefs"]]
    log(f"{kind.split('.')[0]} {name} weights {' '.join(str(w) for w in weights)}")
    print(f"{kind}/{name} patched")


def main():
    args = sys.argv[1:]
    log("$ " + " ".join(args))
    state = load()
    controller(state)
    try:
        if args[:2] == ["argo", "rollouts"]:
            plugin(state, args[2:])
        elif not args or args[0] not in KUBECTL:
            fail(f'unknown command "{args[0] if args else ""}" for "kubectl"')
        elif args[0] == "get":
            get(state, args[1:])
        elif args[0] == "patch":
            patch(state, args[1:])
        else:
            fail(f"the stand-in does not emulate `kubectl {args[0]}`", 3)
    finally:
        save(state)


main()
