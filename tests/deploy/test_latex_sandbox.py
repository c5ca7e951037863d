"""lualatex's bubblewrap sandbox in a container: the opt-in deployment files and their runs.

Files (no containers): docker/seccomp-latex.json (derived from containers-common's default
profile, docker/seccomp-latex.LICENSE), docker/docker-compose.latex-sandbox.yml and the
kustomize Component manifests/components/latex-sandbox (scripts/gen_manifests.py).

Containers (DEPLOY_TEST=1, `make deploy-test`, with the latex image built):
- `podman run` with the options of the Compose override (podman's spelling) compiles a
  lualatex document in the sandbox, once on the host's users and once in a user namespace
  of its own (`--userns=auto`, what podman makes of the Component's `hostUsers: false`);
- `podman kube play` of the latex manifest with the Component: what podman 4.3 honours of
  it (the ConfigMap's LATEX_SANDBOX, the Localhost seccomp profile, no capabilities, no
  privilege escalation) and what it ignores (`procMount: Unmasked`; docs/deployment.md).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from tests.deploy import kube_local
from tests.deploy.containers import (
    CONTAINERS_ENV,
    KAFKA,
    LATEX_SECCOMP,
    REDIS_URL,
    WorkerContainer,
    consume_result_with_kcat,
    image,
    image_exists,
    log_problems,
    podman,
    podman_available,
    produce_with_kcat,
    run_options,
    subuid_range,
    wait_ready,
)
from tests.deploy.support import ROOT, generator, load_all

K8S_VERSION = "1.37.0"
COMPONENT = ROOT / "manifests/components/latex-sandbox"
OVERRIDE = ROOT / "docker/docker-compose.latex-sandbox.yml"
DEFAULT_PROFILE = Path("/usr/share/containers/seccomp.json")
deploy_test = pytest.mark.skipif(
    os.environ.get("DEPLOY_TEST") != "1", reason="container tests: `make deploy-test`"
)
LUALATEX = {
    "main": "\\documentclass{article}\\begin{document}Sandboxed Lua\\TeX{} \\textbf{bold} "
    "$x^2$.\\end{document}",
    "engine": "lualatex",
}


def profile() -> dict[str, Any]:
    return dict(json.loads(LATEX_SECCOMP.read_text()))


def allowed(prof: dict[str, Any]) -> set[str]:
    return {
        n
        for r in prof["syscalls"]
        if r["action"] == "SCMP_ACT_ALLOW" and not r.get("args")
        for n in r["names"]
    }


# -- the files ---------------------------------------------------------------------------------


def test_seccomp_profile_is_flat_and_allows_only_the_sandbox_extras() -> None:
    prof = profile()
    assert prof["defaultAction"] == "SCMP_ACT_ERRNO"
    assert {"SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"} <= set(prof["architectures"])
    assert "archMap" not in prof  # OCI form: containerd reads `architectures` only
    for rule in prof["syscalls"]:
        # No capability conditions: an OCI runtime would ignore them and apply the rule.
        assert set(rule) <= {"names", "action", "args", "errnoRet"}, rule
    names = allowed(prof)
    assert {"sethostname", "setdomainname", "unshare", "clone", "mount", "pivot_root"} <= names
    # Allowed by the default only with CAP_SYS_ADMIN / CAP_SYS_MODULE / CAP_SYS_TIME: still not.
    assert not {"bpf", "perf_event_open", "init_module", "settimeofday", "quotactl"} & names
    denied = {n for r in prof["syscalls"] if r["action"] == "SCMP_ACT_ERRNO" for n in r["names"]}
    assert {"bpf", "kexec_load", "chroot"} <= denied and "sethostname" not in denied


def test_seccomp_profile_is_derived_from_the_recorded_default() -> None:
    """Regenerating from the recorded containers-common profile gives the committed file."""
    recorded = re.search(
        r"sha256: ([0-9a-f]{64})", (ROOT / "docker/seccomp-latex.LICENSE").read_text()
    )
    assert recorded, "docker/seccomp-latex.LICENSE records the source's sha256"
    if not DEFAULT_PROFILE.is_file():
        pytest.skip(f"{DEFAULT_PROFILE} missing (Debian: golang-github-containers-common)")
    data = DEFAULT_PROFILE.read_bytes()
    if hashlib.sha256(data).hexdigest() != recorded.group(1):
        pytest.skip(f"{DEFAULT_PROFILE} is another version than the recorded one")
    derived = generator().latex_seccomp_profile(json.loads(data))
    assert derived == profile()


def test_seccomp_flattening_refuses_conditions_it_does_not_know() -> None:
    base = {"defaultAction": "SCMP_ACT_ERRNO", "archMap": [], "syscalls": []}
    rule = {"names": ["x"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}}
    with pytest.raises(ValueError, match="minKernel"):
        generator().latex_seccomp_profile({**base, "syscalls": [rule]})
    cap_rule = {"names": ["bpf"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_BPF"]}}
    flat = generator().latex_seccomp_profile({**base, "syscalls": [cap_rule]})
    assert flat["syscalls"] == [
        {"names": ["sethostname", "setdomainname"], "action": "SCMP_ACT_ALLOW"}
    ]


def test_compose_override_is_valid_and_only_touches_latex() -> None:
    schema = json.loads((ROOT / "docker/compose-spec.schema.json").read_text())
    doc = load_all(OVERRIDE)[0]
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(doc)]
    assert errors == []
    assert list(doc["services"]) == ["latex"]
    latex = doc["services"]["latex"]
    assert latex["environment"] == {"LATEX_SANDBOX": "bwrap"} and latex["cap_drop"] == ["ALL"]
    seccomp = [o for o in latex["security_opt"] if o.startswith("seccomp=")]
    # Compose resolves it from the first Compose file's folder, docker/.
    assert seccomp == ["seccomp=./seccomp-latex.json"]
    assert (ROOT / "docker" / seccomp[0].split("=", 1)[1]).resolve() == LATEX_SECCOMP
    base = load_all(ROOT / "docker/docker-compose.workers.dev.yml")[0]["services"]["latex"]
    assert base["environment"]["LATEX_SANDBOX"] == "${LATEX_SANDBOX:-auto}"
    assert "security_opt" not in base  # the default stays without the sandbox's options


def _patched() -> list[dict[str, Any]]:
    base = load_all(ROOT / "manifests/workers/latex.yaml")
    return kube_local.with_components(base, ["latex-sandbox"])


def test_component_patches_latex_into_a_valid_sandboxed_pod() -> None:
    docs = _patched()
    (sts,) = [d for d in docs if d["kind"] == "StatefulSet"]
    (config,) = [d for d in docs if d["kind"] == "ConfigMap"]
    for doc in (sts, config):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    pod = sts["spec"]["template"]["spec"]
    (worker,) = pod["containers"]
    assert pod["hostUsers"] is False
    assert worker["securityContext"]["procMount"] == "Unmasked"
    assert worker["securityContext"]["seccompProfile"] == {
        "type": "Localhost",
        "localhostProfile": "enginedge-seccomp-latex.json",
    }
    # The rest of the hardening is the base manifest's, untouched.
    assert worker["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert worker["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert config["data"]["LATEX_SANDBOX"] == "bwrap"
    base = load_all(ROOT / "manifests/workers/latex.yaml")
    (base_config,) = [d for d in base if d["kind"] == "ConfigMap"]
    assert base_config["data"]["LATEX_SANDBOX"] == "auto"
    # A broken patch is caught by the same validation.
    broken = copy.deepcopy(sts)
    broken["spec"]["template"]["spec"]["containers"][0]["securityContext"]["procMount"] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (kustomize) not installed")
def test_component_with_kustomize_equals_the_tests_merge(tmp_path: Path) -> None:
    """`kubectl kustomize` of an overlay with the Component, as the docs tell users to write
    it, gives the same latex objects as kube_local.merge (which the kube play test uses)."""
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "manifests").symlink_to(ROOT / "manifests")
    (overlay / "kustomization.yaml").write_text(
        "resources: [manifests]\ncomponents: [manifests/components/latex-sandbox]\n"
    )
    out = subprocess.run(
        ["kubectl", "kustomize", str(overlay)], capture_output=True, text=True, check=True
    )
    built = [d for d in load_all_text(out.stdout) if d]
    ours = {(d["kind"], d["metadata"]["name"]): d for d in _patched()}
    for key in (("StatefulSet", "latex"), ("ConfigMap", "latex-config")):
        (theirs,) = [d for d in built if (d["kind"], d["metadata"]["name"]) == key]
        assert theirs == ours[key], key
    # Nothing else changed: every other object is the base's.
    assert len(built) == len([d for d in built if d]) and any(
        d["kind"] == "StatefulSet" and d["metadata"]["name"] == "identity" for d in built
    )


def load_all_text(text: str) -> list[dict[str, Any]]:
    import yaml

    return list(yaml.safe_load_all(text))


# -- the containers ----------------------------------------------------------------------------


def _compile_lualatex(prefix: str, worker_type: str = "latex") -> dict[str, Any]:
    command_id = f"sandbox-{uuid.uuid4().hex[:10]}"
    produce_with_kcat(
        f"{prefix}worker.{worker_type}.requests",
        command_id,
        {"command_id": command_id, "command_type": "latex.compile", "payload": LUALATEX},
    )
    return consume_result_with_kcat(f"{prefix}worker.{worker_type}.results", command_id, 180)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def latex_image() -> str:
    chosen = [w.strip() for w in os.environ.get("DEPLOY_WORKERS", "latex").split(",")]
    if "latex" not in chosen:
        pytest.skip("latex is not in DEPLOY_WORKERS")
    assert podman_available()
    from tests.support.stack import ensure_stack

    ensure_stack("kafka", "redis")
    name = image("latex")
    assert image_exists(name), "build it first: make image WORKER=latex"
    return name


@deploy_test
@pytest.mark.timeout(600)
@pytest.mark.parametrize("userns", [False, True], ids=["host-users", "own-userns"])
def test_sandboxed_container_compiles_lualatex(latex_image: str, userns: bool) -> None:
    if userns and not subuid_range():
        pytest.skip("no /etc/subuid range for `containers` (podman --userns=auto; docs)")
    prefix = f"s{uuid.uuid4().hex[:10]}."
    volume = f"ee-sandbox-{uuid.uuid4().hex[:8]}"
    podman("volume", "create", volume)
    c = WorkerContainer(
        "latex",
        prefix,
        _free_port(),
        volume,
        env={"LATEX_SANDBOX": "bwrap"},
        options=run_options("latex", userns=userns),
    )
    try:
        c.run()
        try:
            wait_ready(c.url, 240, alive=c.running)
        except AssertionError:
            print(c.problems())
            raise
        if userns:  # really in a user namespace of its own: uid 0 is not the host's root
            uid_map = podman("exec", c.name, "cat", "/proc/self/uid_map").split()
            assert uid_map[:2] != ["0", "0"], uid_map
        result = _compile_lualatex(prefix)
        assert result["status"] == "COMPLETED", result
        body = result["result"]
        assert body["engine"] == "lualatex" and body["passes"] == 1, body
        print(f"lualatex in the sandbox (userns={userns}): {body['duration_ms']} ms")
        status = podman("exec", c.name, "cat", "/proc/self/status")
        assert re.search(r"CapEff:\s+0+\n", status) and re.search(r"NoNewPrivs:\s+1", status)
    finally:
        c.remove()
        podman("volume", "rm", "--force", volume, check=False)


class PlayedLatex:
    def __init__(self, port: int, prefix: str) -> None:
        self.port, self.prefix, self.container = port, prefix, "latex-pod-0-worker"


@pytest.fixture(scope="module")
def played_latex(
    latex_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlayedLatex]:
    tmp = tmp_path_factory.mktemp("kube-sandbox")
    prefix = f"ks{uuid.uuid4().hex[:10]}."
    port = _free_port()
    play = tmp / "play.yaml"
    docs = kube_local.play_file({"latex": port}, prefix, KAFKA, REDIS_URL, ["latex-sandbox"])
    play.write_text(kube_local.dump(docs))
    root = kube_local.seccomp_root(tmp / "seccomp", ["latex-sandbox"])
    secret = tmp / "secret.json"
    secret.write_text(kube_local.podman_secret({}))
    podman("secret", "rm", "enginedge-worker-secrets", check=False)
    podman("secret", "create", "enginedge-worker-secrets", str(secret))
    podman("volume", "rm", "--force", "state-latex-0", check=False)
    out = podman(
        "kube", "play", "--seccomp-profile-root", str(root), str(play), timeout=300, check=False
    )
    try:
        assert "Error" not in out, out
        yield PlayedLatex(port, prefix)
    finally:
        podman("kube", "play", "--down", str(play), timeout=180, check=False)
        podman("secret", "rm", "enginedge-worker-secrets", check=False)
        podman("volume", "rm", "--force", "state-latex-0", check=False)


def _ready_body(port: int, timeout: float = 180) -> dict[str, Any]:
    """The /ready body once the TeX check has run (ready or not)."""
    import time

    from tests.deploy.containers import http_get

    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status, raw = http_get(f"http://127.0.0.1:{port}/ready", timeout=3)
        if status in (200, 503) and raw:
            body = json.loads(raw)
            if "tex" in body.get("checks", {}) and body["checks"]["kafka"].get("ok"):
                return body
        time.sleep(1)
    raise AssertionError(f"no /ready with a tex check within {timeout}s: {body}")


@deploy_test
@pytest.mark.timeout(600)
def test_played_latex_with_the_sandbox_component(played_latex: PlayedLatex) -> None:
    """What podman 4.3's kube play honours of the Component, and what it does not.

    Honoured: LATEX_SANDBOX from the patched ConfigMap, the Localhost seccomp profile (via
    the annotation kube_local writes: bwrap may set its hostname), capabilities dropped,
    no_new_privs, uid 1001. Not: `procMount: Unmasked` (podman >= 5 maps it to
    unmask=ALL), so bwrap cannot mount /proc and the worker, asked for `bwrap`, stays
    unready with that reason instead of compiling without its sandbox. With a podman that
    honours procMount, the pod must be ready and compile lualatex.
    """
    name = played_latex.container
    info = json.loads(podman("inspect", name))[0]
    env = dict(e.split("=", 1) for e in info["Config"]["Env"])
    assert env["LATEX_SANDBOX"] == "bwrap" and env["TOPIC_PREFIX"] == played_latex.prefix
    status = podman("exec", name, "cat", "/proc/self/status")
    assert re.search(r"CapEff:\s+0+\n", status) and re.search(r"NoNewPrivs:\s+1", status)
    assert podman("exec", name, "id", "-u").strip() == "1001"
    # The Localhost profile is in force: sethostname in a new UTS namespace is allowed ...
    hostname = [
        "bwrap", "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--hostname", "tex",
        "hostname",
    ]  # fmt: skip
    assert podman("exec", name, *hostname).strip() == "tex"
    # ... which podman's default profile refuses to the same image without capabilities.
    control = subprocess.run(
        ["podman", "run", "--rm", "--cap-drop=ALL", "--entrypoint", hostname[0], image("latex"),
         *hostname[1:]],
        env={**os.environ, **CONTAINERS_ENV},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert control.returncode != 0 and "Can't set hostname" in control.stderr, control.stderr
    body = _ready_body(played_latex.port)
    tex = body["checks"]["tex"]
    if body.get("ready"):
        result = _compile_lualatex(played_latex.prefix)
        assert result["status"] == "COMPLETED" and result["result"]["passes"] == 1, result
        return
    print(log_problems(name))
    version = podman("version", "--format", "{{.Client.Version}}").strip()
    assert int(version.split(".")[0]) < 5, f"podman {version} should honour procMount: {tex}"
    assert "Can't mount proc" in tex["detail"], tex
