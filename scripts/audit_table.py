#!/usr/bin/env python3
"""Prints the memory-order audit of one family as a Markdown table, for its README.

Usage: scripts/audit_table.py RESULT.json FAMILY
RESULT.json is the --out file of `cpbench check --audit-orders`. Relaxed sites (nothing weaker
to try) are counted below the table, not listed.
"""
import json
import sys


def trials(row):
    out = []
    for t in row["trials"]:
        if t["caught"]:
            out.append(f'{t["order"]}: {t["kind"]} ({t["check"]})')
        else:
            out.append(f'{t["order"]}: passes')
    return "; ".join(out)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: audit_table.py RESULT.json FAMILY")
    try:
        with open(sys.argv[1], encoding="utf-8") as f:
            audits = json.load(f)["cpbench"]["audit"]
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"audit_table.py: {sys.argv[1]}: no audit block ({e})")
    family = sys.argv[2]
    rows = [(a["impl"], r) for a in audits if a["family"] == family for r in a.get("rows", [])]
    if not rows:
        sys.exit(f"audit_table.py: no audit rows for family '{family}'")
    print("| implementation | site | operation | order | verdict | weaker orders |")
    print("|---|---|---|---|---|---|")
    relaxed = 0
    for impl, r in rows:
        if r["verdict"] == "relaxed":
            relaxed += 1
            continue
        verdict = "needed" if r["verdict"] == "needed" else "**stronger than the checks need**"
        site = r["site"].rsplit("/", 1)[-1]
        print(f'| {impl} | `{site}` | {r["op"]} | {r["order"]} | {verdict} | {trials(r)} |')
    print()
    print(f"{relaxed} relaxed operations (nothing weaker to try) are not listed.")


if __name__ == "__main__":
    main()
