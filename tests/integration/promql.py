#!/usr/bin/python3
"""promql.py BASE_URL QUERY... -- evaluate PromQL instant queries through
Prometheus's HTTP API (/api/v1/query) and print one line per query:
QUERY<TAB>RESULT, where RESULT is "empty" for an empty vector, the value for
a single sample without labels (e.g. sum(...)), else every sample as
{label="value",...}=VALUE joined by " ; " in sorted order; "error: ..." when
the query fails.  One process for many queries (Python starts slowly).

With --openmetrics FILE instead, parses FILE with prometheus_client's strict
OpenMetrics parser and prints "ok N families" or the parse error (exit 1).
"""
import json
import sys
import urllib.parse
import urllib.request


def fmt_value(v):
    f = float(v)
    return str(int(f)) if f == int(f) else v


def query(base, q):
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
    try:
        with urllib.request.urlopen(url, timeout=20) as r:
            body = json.load(r)
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        return "error: %s" % e
    if body.get("status") != "success":
        return "error: %s" % body.get("error")
    result = body["data"]["result"]
    if body["data"]["resultType"] == "scalar":
        return fmt_value(result[1])
    if not result:
        return "empty"
    if len(result) == 1 and not result[0]["metric"]:
        return fmt_value(result[0]["value"][1])
    out = []
    for s in result:
        labels = ",".join('%s="%s"' % (k, v) for k, v in sorted(s["metric"].items()))
        out.append("{%s}=%s" % (labels, fmt_value(s["value"][1])))
    return " ; ".join(sorted(out))


def openmetrics(path):
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # noqa: BLE001
        print("error: %s" % e)
        return 1
    print("ok %d families" % len(families))
    return 0


def main():
    if sys.argv[1] == "--openmetrics":
        return openmetrics(sys.argv[2])
    base = sys.argv[1]
    for q in sys.argv[2:]:
        print("%s\t%s" % (q, query(base, q)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
