"""deploy/: every Kustomize overlay renders and validates (Kubernetes schemas, KEDA's CRD models), the rules the
manifests promise hold, compose runs only real roles, and the IaC linter passes (waivers in deploy/.checkov.yaml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from workers.cli import app as cli_app
from workers.stack.topic_file import load_topics
from workers.worker_command import KINDS

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
OVERLAYS = sorted(p.name for p in (DEPLOY / "k8s" / "overlays").iterdir() if p.is_dir())
KUBERNETES_VERSION = "1.31.0"
GROUPS = {"route": ("omniroute-route", "support.inbound.v1"), "sla": ("omniroute-processors", "support.routed.v1"),
          "outbound": ("omniroute-processors", "support.agent-actions.v1")}  # RouteWorkerConfig, the faust App


def render(overlay: str) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (Debian: apt-get install kubectl or kubernetes-client)")
    # The policy ConfigMap is generated from deploy/policies, outside the kustomization: hence the flag.
    out = subprocess.run([kubectl, "kustomize", "--load-restrictor", "LoadRestrictionsNone",
                          str(DEPLOY / "k8s" / "overlays" / overlay)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"kubectl kustomize {overlay} failed: {out.stderr}"
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(request.param)


def _of(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def test_overlays_exist() -> None:
    assert OVERLAYS == ["dev", "prod"]


def test_every_object_validates_against_the_kubernetes_schemas(rendered: list[dict[str, Any]]) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    for obj in rendered:
        if obj["apiVersion"].startswith("keda.sh/"):
            continue
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_keda_objects_validate_against_the_crd_models(rendered: list[dict[str, Any]]) -> None:
    python = ROOT / ".venv-iac" / "bin" / "python"
    probe = subprocess.run([str(python), "-c", "import cloudcoil.models.keda"], capture_output=True) \
        if python.is_file() else None
    if probe is None or probe.returncode != 0:
        pytest.skip("cloudcoil-models-keda is not installed in .venv-iac (.ci/run installs it)")
    assert {o["kind"] for o in rendered if o["apiVersion"].startswith("keda.sh/")} == {
        "ScaledObject", "TriggerAuthentication"}
    out = subprocess.run([str(python), str(ROOT / "tests" / "keda_check.py")], input=yaml.safe_dump_all(rendered),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_deployment_per_role_with_probes_resources_and_spread(rendered: list[dict[str, Any]]) -> None:
    deployments = _of(rendered, "Deployment")
    assert set(deployments) == {f"omniroute-{kind}" for kind in KINDS}
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert container["args"][0] == "worker" and container["args"][1] in KINDS, name
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]) and container["resources"]["limits"], name
        assert pod["securityContext"]["runAsNonRoot"] and container["securityContext"]["readOnlyRootFilesystem"], name
        assert pod["topologySpreadConstraints"], name
        assert {"configMapRef", "secretRef"} == {k for ref in container["envFrom"] for k in ref}, name
    assert set(_of(rendered, "PodDisruptionBudget")) == set(deployments)


def test_secrets_are_referenced_never_rendered(rendered: list[dict[str, Any]]) -> None:
    assert not _of(rendered, "Secret")


def test_the_policy_configmap_holds_every_tenant_file(rendered: list[dict[str, Any]]) -> None:
    [policies] = [o for n, o in _of(rendered, "ConfigMap").items() if n.startswith("omniroute-policies")]
    files = {p.name: p.read_text(encoding="utf-8") for p in (DEPLOY / "policies").glob("*.yaml")}
    assert policies["data"] == files, "add the new policy file to deploy/k8s/base/kustomization.yaml"


def test_workers_scale_on_lag_never_beyond_their_partitions(rendered: list[dict[str, Any]]) -> None:
    partitions = {t.name: t.partitions for t in load_topics()}
    scaled = _of(rendered, "ScaledObject")
    assert set(scaled) == {f"omniroute-{role}" for role in GROUPS}
    for role, (group, topic) in GROUPS.items():
        spec = scaled[f"omniroute-{role}"]["spec"]
        [trigger] = spec["triggers"]
        assert (trigger["type"], trigger["metadata"]["consumerGroup"], trigger["metadata"]["topic"]) == (
            "kafka", group, topic)
        assert spec["maxReplicaCount"] <= partitions[topic], f"{role}: more replicas than {topic} has partitions"
    [hpa] = _of(rendered, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == "omniroute-ingress"
    assert _of(rendered, "Ingress") and _of(rendered, "Service")


def test_the_retention_job_runs_nightly_one_at_a_time(rendered: list[dict[str, Any]]) -> None:
    jobs = _of(rendered, "CronJob")
    assert set(jobs) == {"omniroute-retention"}
    spec = jobs["omniroute-retention"]["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    cli_group = typer.main.get_command(cli_app).commands[container["args"][0]]
    assert container["args"][1] in cli_group.commands, f"the CronJob runs `omniroute {' '.join(container['args'])}`"
    assert container["securityContext"]["readOnlyRootFilesystem"] and container["resources"]["limits"]
    assert any(m["name"] == "policies" for m in container["volumeMounts"]), "the job needs the tenants' periods"


def test_compose_runs_kafka_kraft_redis_and_only_real_roles() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    kafka = [s for s in services.values() if str(s.get("image", "")).startswith("apache/kafka")]
    assert len(kafka) == 3 and all("controller" in s["environment"]["KAFKA_PROCESS_ROLES"] for s in kafka)
    assert any(str(s.get("image", "")).startswith("redis") for s in services.values())
    commands = {name: s["command"] for name, s in services.items() if s.get("build")}
    cli_commands = set(typer.main.get_command(cli_app).commands)
    roles = set()
    for name, command in commands.items():
        assert command[0] in cli_commands, f"compose service {name} runs `omniroute {' '.join(command)}`"
        if command[0] == "worker":
            assert command[1] in KINDS, f"compose service {name}: {command[1]} is not a worker role"
            roles.add(command[1])
    assert roles == set(KINDS), "every role runs in compose"


def test_the_dockerfile_is_multi_stage_non_root_and_role_by_command() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert text.count("\nFROM ") + text.startswith("FROM ") >= 2
    assert "\nUSER 10001" in text and 'ENTRYPOINT ["omniroute"]' in text
    assert "SECRET" not in text.upper().replace("NO SECRET IS BAKED IN", "")


def _checkov() -> str | None:
    for candidate in (str(ROOT / ".venv-iac" / "bin" / "checkov"), shutil.which("checkov"),
                      str(Path(sys.executable).parent / "checkov")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def test_the_iac_linter_passes(tmp_path: Path) -> None:
    checkov = _checkov()
    if checkov is None:
        pytest.skip("checkov is not installed (.ci/run installs it into .venv-iac)")
    for overlay in OVERLAYS:
        (tmp_path / f"{overlay}.yaml").write_text(yaml.safe_dump_all(render(overlay)))
    (tmp_path / "Dockerfile").write_text((DEPLOY / "Dockerfile").read_text(encoding="utf-8"))
    out = subprocess.run([checkov, "--config-file", str(DEPLOY / ".checkov.yaml"), "--directory", str(tmp_path),
                          "--quiet", "--compact"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


def test_the_dashboard_uses_only_metrics_the_code_exports() -> None:
    import json
    import re

    dashboard = json.loads((DEPLOY / "grafana" / "omniroute.json").read_text(encoding="utf-8"))
    used = {m for p in dashboard["panels"] for t in p["targets"] for m in re.findall(r"omniroute_[a-z_]+", t["expr"])}
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "workers").rglob("*.py"))
    missing = sorted(m for m in used if re.sub(r"_(total|bucket|count|sum)$", "", m) not in source)
    assert used and missing == [], f"the dashboard queries metrics nobody exports: {missing}"
