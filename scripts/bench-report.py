#!/usr/bin/env python3
"""Turns criterion's saved estimates (target/criterion) into the markdown tables of
BENCHMARKS.md: median ns per frame, and each row's ratio to the fastest raw AEAD of the same run.

    python3 scripts/bench-report.py [target/criterion]
"""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")


def runs():
    """Every benchmark: (group, function, parameter) -> median ns."""
    out = {}
    for meta in root.glob("**/new/benchmark.json"):
        info = json.loads(meta.read_text())
        est = json.loads((meta.parent / "estimates.json").read_text())
        out[(info["group_id"], info["function_id"], info.get("value_str"))] = est["median"]["point_estimate"]
    return out


def fmt(ns):
    return f"{ns:,.0f}".replace(",", " ") if ns >= 100 else f"{ns:.1f}"


def main():
    data = runs()
    groups = sorted({g for g, _, _ in data if g.startswith(("encrypt/", "decrypt/"))})
    for group in groups:
        functions = sorted({f for g, f, _ in data if g == group}, key=lambda f: (not f.startswith("raw "), f))
        raws = [f for f in functions if f.startswith("raw ")]
        sizes = sorted({int(v) for g, _, v in data if g == group and v})
        print(f"\n#### {group}\n")
        # Each row against the fastest raw AEAD of its size in the run (with aws-lc on, raw ring
        # and raw aws-lc are both measured; the faster differs by size).
        ref = "raw AEAD" if raws == ["raw AEAD"] else "fastest raw"
        head = ["size"] + [f"{f} (ns)" for f in functions] + [f"{f} / {ref}" for f in functions if f not in raws]
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for size in sizes:
            row = [str(size)]
            cells = [data.get((group, f, str(size))) for f in functions]
            raw = min((c for f, c in zip(functions, cells) if f in raws and c), default=None)
            row += [fmt(c) if c else "–" for c in cells]
            for f, c in zip(functions, cells):
                if f not in raws:
                    row.append(f"{c / raw:.2f}×" if c and raw else "–")
            print("| " + " | ".join(row) + " |")
    other = sorted((k, v) for k, v in data.items() if not k[0].startswith(("encrypt/", "decrypt/")))
    if other:
        print("\n#### header codec and key installation\n")
        print("| group | what | case | median (ns) |")
        print("|---|---|---|---|")
        for (g, f, v), ns in other:
            print(f"| {g} | {f} | {v or ''} | {fmt(ns)} |")


if __name__ == "__main__":
    main()
