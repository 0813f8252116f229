#!/bin/sh
# Every container starts here. Prometheus multiprocess mode: this container's processes
# write their metrics to PROMETHEUS_MULTIPROC_DIR (a tmpfs/emptyDir of its own); files left
# by a previous run of the container would be added to the new one's, so start empty.
set -eu
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
  rm -rf "${PROMETHEUS_MULTIPROC_DIR:?}"/* 2>/dev/null || true
  mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
fi
exec "$@"
