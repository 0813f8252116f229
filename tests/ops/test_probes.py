"""Kubelet probes and Prometheus scrapes address a pod by IP: /healthz, /readyz and /metrics
answer whatever the Host header, while the application still refuses unknown hosts."""

import pytest
from django.test import override_settings

POD_HOST = "10.1.2.3:8000"


@pytest.fixture
def strict_hosts():
    with override_settings(ALLOWED_HOSTS=["commerce.example.com"], DEBUG=False):
        yield


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probe_paths_answer_any_host(client, strict_hosts, path):
    # given a production-like ALLOWED_HOSTS; when a probe comes with the pod's IP as Host
    response = client.get(path, HTTP_HOST=POD_HOST)
    # then it answers
    assert response.status_code == 200


@pytest.mark.django_db
def test_application_still_refuses_unknown_hosts(client, strict_hosts):
    # when the API is asked with a Host not in ALLOWED_HOSTS
    response = client.get("/api/v1/auth/me/", HTTP_HOST=POD_HOST)
    # then Django's host check refuses it (ALLOWED_HOSTS was not opened)
    assert response.status_code == 400


@pytest.mark.django_db
def test_probe_paths_only_for_reads(client, strict_hosts):
    # a POST to /metrics is not a probe: it goes through the normal stack (host refused)
    assert client.post("/metrics", HTTP_HOST=POD_HOST).status_code == 400


@pytest.mark.django_db
def test_metrics_lists_the_operator_gauges(client):
    body = client.get("/metrics").content.decode()
    for name in ("commerce_worker_heartbeat_timestamp_seconds",
                 "commerce_order_oldest_open_age_seconds", "commerce_sagas",
                 "commerce_queue_depth", "commerce_inventory_drift_items"):
        assert f"# TYPE {name} gauge" in body


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_are_not_redirected_to_https(client, strict_hosts, path):
    # production redirects plain HTTP to HTTPS; the kubelet and Prometheus speak plain HTTP
    # to the pod, so their paths must answer as they are
    with override_settings(SECURE_SSL_REDIRECT=True):
        response = client.get(path, HTTP_HOST=POD_HOST)
    assert response.status_code == 200
