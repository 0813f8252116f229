"""`make run`: PostgreSQL and Redis (embedded ones if none answers), the database migrated and
seeded, then every process under supervisord (deploy/supervisord.conf): the API (gunicorn),
a Celery worker, beat, the outbox relay and the third-party simulators. A process that dies
is restarted; Ctrl-C stops them all and the embedded services, and exits 0.

Per instance (PORT): its own run folder `.run/<PORT>/` with the beat schedule, metrics of
every process (/metrics adds them up) and the heartbeat files."""

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import devservices  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def prepare(env: dict) -> None:
    py = str(VENV_BIN / "python")
    for cmd in ([py, "scripts/ensure_database.py"],
                [py, "manage.py", "migrate", "--noinput", "-v", "0"],
                [py, "manage.py", "seed_demo"],
                [py, "manage.py", "collectstatic", "--noinput", "-v", "0"]):
        subprocess.run(cmd, cwd=ROOT, env=env, check=True)


def run_env() -> dict:
    port = os.environ.get("PORT", "8000")
    run_dir = ROOT / ".run" / port
    metrics_dir = run_dir / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)  # before any process starts, never after
    metrics_dir.mkdir(parents=True)
    from simulators.registry import SIMULATORS

    return {
        **os.environ,
        "ROOT": str(ROOT), "VENV_BIN": str(VENV_BIN), "PORT": port, "RUN_DIR": str(run_dir),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "LIVENESS_DIR": str(run_dir / "liveness"),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        "SIMULATORS_AUTOSTART": "true" if SIMULATORS else "false",
        # the carrier simulator pushes tracking to this instance's API
        "CARRIER_SIM_WEBHOOK_URL": os.environ.get(
            "CARRIER_SIM_WEBHOOK_URL", f"http://127.0.0.1:{port}/api/v1/shipping/webhooks"),
        "PYTHONUNBUFFERED": "1",
        "RUN_USER": pwd.getpwuid(os.getuid()).pw_name,
    }


@contextlib.contextmanager
def terminal_foreground(pgid: int):
    """Hand the terminal to supervisord's process group, so that Ctrl-C reaches supervisord
    alone: it stops every program in order, and make sees a clean exit instead of being
    interrupted itself."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR)
        previous = os.tcgetpgrp(fd)
    except OSError:
        yield  # no terminal (CI, a test): signals are forwarded instead
        return
    old_ttou = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(fd, pgid)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.tcsetpgrp(fd, previous)
        signal.signal(signal.SIGTTOU, old_ttou)
        os.close(fd)


def supervise(env: dict) -> int:
    proc = subprocess.Popen([str(VENV_BIN / "supervisord"), "-c", "deploy/supervisord.conf"],
                            cwd=ROOT, env=env, process_group=0)

    def forward(signum, _frame):
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM if signum == signal.SIGINT else signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, forward)
    with terminal_foreground(proc.pid):
        while True:
            try:
                proc.wait()
                break
            except InterruptedError:
                continue
    # supervisord exits 0 after a requested shutdown (Ctrl-C, SIGTERM).
    return 0 if proc.returncode in (0, -signal.SIGTERM, -signal.SIGINT) else proc.returncode


def main() -> int:
    os.chdir(ROOT)
    with devservices.services():
        env = run_env()
        prepare(env)
        port = env["PORT"]
        print(f"API on http://127.0.0.1:{port}/api/docs/  admin on "
              f"http://127.0.0.1:{port}/admin/  metrics on http://127.0.0.1:{port}/metrics\n"
              f"processes: web, worker, beat, relay, consumer"
              f"{', simulators' if env['SIMULATORS_AUTOSTART'] == 'true' else ''} "
              f"(restarted if they die; Ctrl-C stops all)", flush=True)
        code = supervise(env)
    print("stopped.", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
