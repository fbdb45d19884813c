#!/usr/bin/env python3
"""Tables of compare.sh's runs (also what ab.sh reports): per scenario and metric, each broker's median over the
alternating rounds with its spread (min..max), and the last broker's ratio to each other one.

Input: lines "<broker>\t<scenario>\t<round>\t<RESULT line or FAILED>" (compare.sh writes them as runs finish).

  summarize.py <runs file> table --brokers "relay mosquitto hivemq skylark" --scenarios "..." \
      --metrics "rate_msgs_s ..." --connection-metrics "ready ..."
  summarize.py <runs file> relay --brokers "..." --scenarios "..."     # QoS 0 against the null relay (= 1.0)

Cells: "n/a" = the broker does not take part in that scenario, "FAILED" = every round failed, "-" = no value.
"""
import argparse
import collections
import statistics
import sys


def parse(path):
    runs = collections.defaultdict(list)  # (broker, scenario) -> [fields dict or None]
    for line in open(path, encoding="utf-8"):
        parts = line.rstrip("\n").split("\t", 3)
        if len(parts) != 4:
            continue
        broker, scenario, _round, result = parts
        if result.startswith("RESULT "):
            runs[(broker, scenario)].append(dict(kv.split("=", 1) for kv in result.split()[1:] if "=" in kv))
        else:
            runs[(broker, scenario)].append(None)
    return runs


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def values(runs, broker, scenario, metric):
    out = []
    for fields in runs.get((broker, scenario), []):
        if fields is None:
            continue
        v = number(fields.get(metric))
        if v is not None and v >= 0:  # -1: not measured (no --broker-pid, no acks at QoS 0)
            out.append(v)
    return out


def fmt(v):
    if v == int(v) and abs(v) >= 100:
        return f"{int(v):,}"
    return f"{v:,.3f}" if abs(v) < 10 else (f"{v:,.1f}" if abs(v) < 100 else f"{v:,.0f}")


def cell(runs, broker, scenario, metric):
    if (broker, scenario) not in runs:
        return "n/a", None
    vs = values(runs, broker, scenario, metric)
    if not vs:
        return ("FAILED" if all(f is None for f in runs[(broker, scenario)]) else "-"), None
    m = statistics.median(vs)
    if len(vs) == 1:
        return fmt(m), m
    return f"{fmt(m)} ({fmt(min(vs))}..{fmt(max(vs))})", m


def table(runs, brokers, scenarios, metrics, connection_metrics, subject):
    others = [b for b in brokers if b != subject]
    head = ["scenario", "metric"] + brokers + [f"{subject}/{b}" for b in others if subject in brokers]
    print("| " + " | ".join(head) + " |")
    print("|---|---|" + "---:|" * (len(head) - 2))
    for scenario in scenarios:
        if not any((b, scenario) in runs for b in brokers):
            continue
        ms = connection_metrics if scenario == "connections" else metrics
        for metric in ms:
            cells = {b: cell(runs, b, scenario, metric) for b in brokers}
            if all(c[1] is None for c in cells.values()) and metric.startswith("puback_"):
                continue  # no acknowledgements in this scenario (QoS 0)
            row = [scenario, metric] + [cells[b][0] for b in brokers]
            if subject in brokers:
                s = cells[subject][1]
                for b in others:
                    o = cells[b][1]
                    row.append(f"{s / o:.2f}" if s is not None and o else "-")
            print("| " + " | ".join(row) + " |")


def relay_table(runs, brokers, scenarios, relay):
    print(f"| scenario | broker | msgs/s (median) | ratio to the relay | broker CPU ns/msg (median) | CPU ratio to the relay |")
    print("|---|---|---:|---:|---:|---:|")
    for scenario in scenarios:
        if (relay, scenario) not in runs:
            continue
        base_rate = values(runs, relay, scenario, "rate_msgs_s")
        base_cpu = values(runs, relay, scenario, "broker_cpu_us_per_msg")
        r0 = statistics.median(base_rate) if base_rate else None
        c0 = statistics.median(base_cpu) * 1000 if base_cpu else None
        for b in brokers:
            if (b, scenario) not in runs:
                continue
            rate = values(runs, b, scenario, "rate_msgs_s")
            cpu = values(runs, b, scenario, "broker_cpu_us_per_msg")
            r = statistics.median(rate) if rate else None
            c = statistics.median(cpu) * 1000 if cpu else None
            print(f"| {scenario} | {b} | {fmt(r) if r is not None else '-'} | "
                  f"{f'{r / r0:.3f}' if r is not None and r0 else '-'} | {fmt(c) if c is not None else '-'} | "
                  f"{f'{c / c0:.1f}' if c is not None and c0 else '-'} |")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("runs")
    p.add_argument("what", choices=["table", "relay"])
    p.add_argument("--brokers", required=True)
    p.add_argument("--scenarios", required=True)
    p.add_argument("--metrics", default="")
    p.add_argument("--connection-metrics", default="")
    p.add_argument("--subject", default="", help="the broker whose ratios to the others are shown (default: last)")
    p.add_argument("--relay", default="relay")
    a = p.parse_args()
    runs = parse(a.runs)
    brokers, scenarios = a.brokers.split(), a.scenarios.split()
    if a.what == "table":
        table(runs, brokers, scenarios, a.metrics.split(), a.connection_metrics.split(), a.subject or brokers[-1])
    else:
        relay_table(runs, brokers, scenarios, a.relay)


if __name__ == "__main__":
    sys.exit(main())
