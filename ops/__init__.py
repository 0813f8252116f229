"""Operations: what keeps processes supervised and operators informed. Sits above the domain
apps (it reads their tables for gauges) and is wired in by the project config
(commerce/celery.py); no domain code imports it.

- `ops.gauges`: the operator gauges (oldest open order, sagas by status, outbox lag, queue
  depth and age, inventory drift, connection saturation …), computed in one place.
- `ops.celery`: the worker heartbeat bootstep, the beat scheduler that also heartbeats and
  runs the gauge collector, task outcome counters."""
