"""The Kubernetes manifests as rendered for production (kustomize), checked for what the
schemas cannot see: probes that pass, every process scraped, security and resources on
every container, pinned images, one migrate Job per release, an Ingress that keeps /metrics
and /admin/ internal, secrets from outside. (.ci/run validates the same output against the
Kubernetes schemas with kubernetes-validate.)"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy/k8s"

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None,
                                reason="kubectl (kustomize) not installed")


def render(path: Path) -> list[dict]:
    out = subprocess.run(["kubectl", "kustomize", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="module")
def production():
    return render(K8S / "overlays/production")


@pytest.fixture(scope="module")
def bootstrap():
    return render(K8S / "bootstrap")


def of_kind(docs, kind):
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_specs(docs):
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            yield doc["metadata"]["name"], doc["spec"]["template"]


def test_every_container_is_locked_down_and_sized(production):
    for name, template in pod_specs(production):
        spec = template["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"] + spec.get("initContainers", []):
            where = f"{name}/{container['name']}"
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["capabilities"]["drop"] == ["ALL"], where
            assert {"cpu", "memory"} <= container["resources"]["requests"].keys(), where
            assert {"cpu", "memory"} <= container["resources"]["limits"].keys(), where
            assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?",
                                container["image"]), f"{where}: {container['image']}"


def test_probes(production):
    deployments = of_kind(production, "Deployment")
    web = deployments["commerce-web"]["spec"]["template"]["spec"]["containers"][0]
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["startupProbe"]["httpGet"]["path"] == "/healthz"
    for process, heartbeat in (("worker", "worker"), ("beat", "beat"), ("relay", "relay"),
                               ("consumer", "consumer-notifications")):
        container = deployments[f"commerce-{process}"]["spec"]["template"]["spec"][
            "containers"][0]
        command = container["livenessProbe"]["exec"]["command"]
        assert command[:4] == ["python", "-m", "commerce.core.liveness", heartbeat]


def test_every_process_is_scraped(production):
    config = of_kind(production, "ConfigMap")["commerce-config"]["data"]
    assert config["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp")
    ports = {e["port"] for e in of_kind(production, "PodMonitor")["commerce"]["spec"][
        "podMetricsEndpoints"]}
    assert ports == {"http", "metrics"}
    for name, deployment in of_kind(production, "Deployment").items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        port_names = {p["name"] for p in container.get("ports", [])}
        if name == "commerce-web":
            assert "http" in port_names
        else:
            env = {e["name"]: e.get("value") for e in container.get("env", [])}
            assert env["METRICS_PORT"] == "9100" and "metrics" in port_names, name


def test_one_migrate_job_per_release(production):
    (job,) = of_kind(production, "Job").values()
    tag = job["spec"]["template"]["spec"]["containers"][0]["image"].rsplit(":", 1)[1]
    assert job["metadata"]["name"] == f"commerce-migrate-{tag}"
    assert len(job["metadata"]["name"]) <= 63
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    for name, template in pod_specs(production):
        if name.startswith("commerce-migrate"):
            continue
        init = template["spec"]["initContainers"][0]
        assert "migrate --check" in " ".join(init["command"]), name


def test_ingress_keeps_metrics_and_admin_internal(production):
    ingresses = of_kind(production, "Ingress")
    public = ingresses["commerce-public"]
    paths = [p["path"] for rule in public["spec"]["rules"] for p in rule["http"]["paths"]]
    assert paths == ["/api/"]
    internal = ingresses["commerce-internal"]
    assert internal["spec"]["ingressClassName"] != public["spec"]["ingressClassName"]
    internal_paths = {p["path"] for rule in internal["spec"]["rules"]
                      for p in rule["http"]["paths"]}
    assert "/admin/" in internal_paths and "/metrics" not in internal_paths


def test_secrets_come_from_outside(production):
    assert of_kind(production, "Secret") == {}
    external = of_kind(production, "ExternalSecret")["commerce-secrets"]
    assert external["spec"]["target"]["name"] == "commerce-secrets"
    keys = {d["secretKey"] for d in external["spec"]["data"]}
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "PAYMENT_API_KEY",
            "SMS_AUTH_TOKEN", "PUSH_API_TOKEN", "PUSH_RECEIPT_SECRET",
            "EMAIL_RECEIPT_SECRET"} <= keys
    auth = of_kind(production, "TriggerAuthentication")["commerce-redis"]
    assert {t["key"] for t in auth["spec"]["secretTargetRef"]} <= keys
    text = yaml.safe_dump_all(production)
    assert "change-me" not in text and "password:" not in text.lower().replace(
        "parameter: password", "")


def test_autoscaling(production):
    hpas = of_kind(production, "HorizontalPodAutoscaler")
    assert set(hpas) == {"commerce-web"}  # KEDA owns the workers' HPA
    assert hpas["commerce-web"]["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    scaled = of_kind(production, "ScaledObject")["commerce-worker"]
    assert scaled["spec"]["scaleTargetRef"]["name"] == "commerce-worker"
    triggers = {t["type"]: t for t in scaled["spec"]["triggers"]}
    assert triggers["redis"]["metadata"]["listName"] == "celery"
    assert "cpu" in triggers


def test_selectors_match_pods(production):
    labels = {name: t["metadata"]["labels"] for name, t in pod_specs(production)}

    def matches(selector):
        return [n for n, lab in labels.items()
                if all(lab.get(k) == v for k, v in selector.items())]

    for service in of_kind(production, "Service").values():
        assert matches(service["spec"]["selector"]), service["metadata"]["name"]
    for pdb in of_kind(production, "PodDisruptionBudget").values():
        assert matches(pdb["spec"]["selector"]["matchLabels"]), pdb["metadata"]["name"]
    beat = of_kind(production, "Deployment")["commerce-beat"]["spec"]
    assert beat["replicas"] == 1 and beat["strategy"]["type"] == "Recreate"


def test_network_policies_default_deny(production):
    policies = of_kind(production, "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "commerce-web-ingress" in policies and "commerce-metrics-ingress" in policies


def test_rbac(bootstrap):
    accounts = of_kind(bootstrap, "ServiceAccount")
    assert accounts["commerce"]["automountServiceAccountToken"] is False
    binding = of_kind(bootstrap, "RoleBinding")["commerce-deployer"]
    assert binding["roleRef"]["name"] in of_kind(bootstrap, "Role")
    assert of_kind(bootstrap, "ClusterRole") == {}  # namespaced rights only
