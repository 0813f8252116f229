"""The image, checked without a Docker engine: multi-stage on a pinned base, dependencies from
the hash-pinned lock, non-root, a healthcheck, every COPY source present and nothing the
image runs excluded by .dockerignore."""

import fnmatch
import os
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "deploy/Dockerfile").read_text()


def _instructions():
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    return [line.strip() for line in joined.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_multi_stage_on_a_pinned_base():
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", DOCKERFILE, re.M))
    froms = [line.split()[1] for line in _instructions() if line.startswith("FROM ")]
    assert len(froms) >= 2
    base = args["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base)
    assert all(f in ("${PYTHON_IMAGE}",) for f in froms)


def test_dependencies_from_the_lock_with_hashes():
    assert "--require-hashes" in DOCKERFILE and "requirements.lock" in DOCKERFILE
    lock = (ROOT / "requirements.lock").read_text()
    pins = re.findall(r"^([A-Za-z0-9_.\-]+)==", lock, re.M)
    assert lock.count("--hash=sha256:") >= len(pins) > 0
    locked = {re.sub(r"[-_.]+", "-", p).lower() for p in pins}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name = re.split(r"[<>=!\[; ]", requirement, maxsplit=1)[0]
        assert re.sub(r"[-_.]+", "-", name).lower() in locked, \
            f"{name} is not in requirements.lock: regenerate it (see its header)"


def test_runs_as_an_unprivileged_user_with_a_healthcheck():
    users = [line.split()[1] for line in _instructions() if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert any(line.startswith("HEALTHCHECK ") and "/healthz" in line
               for line in _instructions())
    assert os.access(ROOT / "deploy/entrypoint.sh", os.X_OK)


def test_copy_sources_exist():
    for line in _instructions():
        if line.startswith("COPY ") and "--from=" not in line:
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source


def test_dockerignore_keeps_what_the_image_runs():
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()
                if p.strip() and not p.startswith("#")]

    def ignored(path):
        return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path, p.lstrip("*/"))
                   or path.startswith(p.rstrip("/") + "/") for p in patterns)

    for needed in ("manage.py", "requirements.lock", "deploy/gunicorn.conf.py",
                   "deploy/entrypoint.sh", "templates", "commerce", "ops", "orders",
                   "inventory", "cart", "sagas", "payments", "simulators", "notifications",
                   "locale"):
        assert not ignored(needed), needed
    for secret_or_bulk in (".git", ".venv", ".env", ".env.production", "tests", ".data"):
        assert ignored(secret_or_bulk), secret_or_bulk
    # every Django app in INSTALLED_APPS ships (no per-app COPY list to forget)
    from django.conf import settings

    for app in settings.INSTALLED_APPS:
        top = app.split(".")[0]
        if (ROOT / top).is_dir() and top != "tests":  # tests.testapp: test settings only
            assert not ignored(top), top
