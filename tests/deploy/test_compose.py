"""The compose files, checked without a Docker engine (`docker compose config` needs one):
parsed, every reference resolved, and the operational promises of each file held."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_PROCESSES = ("web", "worker", "beat", "relay", "consumer")
_INTERPOLATION = re.compile(r"\$\{([^}]*)\}")


def load(name):
    return yaml.safe_load((ROOT / name).read_text())


@pytest.fixture(params=["docker-compose.yml", "docker-compose.dev.yml"])
def compose(request):
    return request.param, load(request.param)


def test_references_resolve(compose):
    name, doc = compose
    services = doc["services"]
    declared_volumes = set(doc.get("volumes") or {})
    for service_name, service in services.items():
        for dependency in service.get("depends_on") or {}:
            assert dependency in services, f"{name}: {service_name} → {dependency}"
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared_volumes, f"{name}: volume {source}"
        for env_file in service.get("env_file") or []:
            assert (ROOT / env_file).exists() or (ROOT / f"{env_file}.example").exists(), \
                f"{name}: {env_file} (nor its .example)"
        build = service.get("build")
        if build:
            assert (ROOT / build["context"] / build["dockerfile"]).exists()
        image = service.get("image", "")
        assert image and not image.endswith(":latest"), f"{name}: {service_name} image"
        if service_name in ("postgres", "redis"):
            assert re.search(r":\d+\.\d+", image), f"{name}: {image} not pinned"


def test_interpolations_are_well_formed(compose):
    name, _ = compose
    text = (ROOT / name).read_text()
    for expression in _INTERPOLATION.findall(text):
        assert re.fullmatch(r"[A-Z_][A-Z0-9_]*((:?-|:?\?)[^}]*)?", expression), expression


def test_every_process_is_supervised(compose):
    name, doc = compose
    for process in APP_PROCESSES:
        service = doc["services"][process]
        assert service["restart"] in ("unless-stopped", "always"), f"{name}: {process}"
        test = " ".join(service["healthcheck"]["test"])
        expected = "/healthz" if process == "web" else f"commerce.core.liveness {process}"
        if process == "consumer":
            expected = "commerce.core.liveness consumer-notifications"
        assert expected in test, f"{name}: {process} healthcheck"


def test_backing_services_listen_on_localhost_only(compose):
    name, doc = compose
    for service_name in ("postgres", "redis"):
        for port in doc["services"][service_name].get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name}: {service_name} {port}"


def test_migrations_run_once_before_the_app():
    for name in ("docker-compose.yml", "docker-compose.dev.yml"):
        services = load(name)["services"]
        assert services["migrate"]["restart"] == "no"
        assert "migrate" in " ".join(services["migrate"]["command"])
        for process in APP_PROCESSES:
            assert "migrate" not in " ".join(services[process]["command"])
            assert services[process]["depends_on"]["migrate"] == {
                "condition": "service_completed_successfully"}


def test_production_file_runs_production_settings_without_literal_secrets():
    doc = load("docker-compose.yml")
    text = (ROOT / "docker-compose.yml").read_text()
    for process in APP_PROCESSES:
        env = doc["services"][process]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "commerce.settings.production"
        assert "DJANGO_DEBUG" not in env
        assert doc["services"][process]["read_only"] is True
    assert "POSTGRES_PASSWORD:" not in text and "requirepass postgres" not in text
    assert not re.search(r"://\w+:[^@$]+@", text), "a password in a URL"
    example = (ROOT / ".env.production.example").read_text()
    for key in ("DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "POSTGRES_PASSWORD",
                "REDIS_PASSWORD", "DJANGO_ALLOWED_HOSTS", "PAYMENT_API_KEY", "SMS_AUTH_TOKEN",
                "PUSH_API_TOKEN", "PUSH_RECEIPT_SECRET", "EMAIL_RECEIPT_SECRET",
                "PUBLIC_BASE_URL"):
        assert re.search(rf"^{key}=", example, re.M), key
    assert ".env.production" in (ROOT / ".gitignore").read_text().split()


def test_each_container_has_its_own_metrics_directory():
    # the old file shared one volume and web wiped the worker's metric files at start
    doc = load("docker-compose.yml")
    for process in APP_PROCESSES:
        service = doc["services"][process]
        assert service["environment"]["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp")
        assert service["tmpfs"] == ["/tmp"]
        assert not [v for v in service.get("volumes", []) if "metrics" in v]
