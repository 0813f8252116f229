"""Which metric names a PromQL expression reads, and which names /metrics exports: enough to
prove a dashboard or alert reads metrics that exist (not a PromQL parser)."""

import re

FUNCTIONS_AND_KEYWORDS = {
    # aggregations, functions and keywords that look like identifiers
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile",
    "count_values", "group", "by", "without", "on", "ignoring", "group_left", "group_right",
    "and", "or", "unless", "offset", "bool", "rate", "irate", "increase", "delta", "idelta",
    "deriv", "histogram_quantile", "time", "vector", "scalar", "absent", "absent_over_time",
    "clamp_min", "clamp_max", "abs", "ceil", "floor", "round", "label_replace", "label_join",
    "sort", "sort_desc", "timestamp", "changes", "resets", "predict_linear",
    "avg_over_time", "max_over_time", "min_over_time", "sum_over_time", "count_over_time",
    "last_over_time", "inf", "nan",
}
# Prometheus' own series, not the service's.
PROMETHEUS_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_GROUPINGS = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)")
_NUMBER_SUFFIX = re.compile(r"^\d")


def metric_names(expr: str) -> set[str]:
    text = _STRINGS.sub("", expr)
    text = _MATCHERS.sub("", text)
    text = _RANGES.sub("", text)
    text = _GROUPINGS.sub(r"\1", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        name = match.group(1)
        if name.lower() in FUNCTIONS_AND_KEYWORDS or _NUMBER_SUFFIX.match(name):
            continue
        names.add(name)
    return names


def exported_names(body: str) -> set[str]:
    """Every name /metrics exposes: declared (TYPE lines, also for labelled metrics that have
    no sample yet) and sampled; histograms add their _bucket/_sum/_count series."""
    names = set()
    for line in body.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            names.add(name)
            if kind == "histogram":
                names.update({f"{name}_bucket", f"{name}_sum", f"{name}_count"})
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names

