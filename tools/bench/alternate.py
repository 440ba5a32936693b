#!/usr/bin/env python3
"""Whole-process timings taken in turns: one run of each command per round, so a noisy neighbour or a
drifting clock slows every command alike (hyperfine runs all of one command, then all of the next; here
that moved ratios by 5-10% between orderings). Prints the median and minimum wall time of each command,
its ratio to the first (the baseline), and its peak RSS.

  tools/bench/alternate.py [--rounds N] [--warmup N] [--markdown] -- 'grep -c -F panic: f' 'ingest analyze --json f' ...
"""
import argparse
import os
import resource
import shlex
import statistics
import subprocess
import sys
import time


def run(argv):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode not in (0, 1):  # grep -c exits 1 when it counts nothing
        sys.exit(f"{shlex.join(argv)} exited with {p.returncode}")
    return elapsed, max(after.ru_maxrss, before.ru_maxrss)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("commands", nargs="+")
    a = ap.parse_args()
    cmds = [shlex.split(c) for c in a.commands]
    times = [[] for _ in cmds]
    rss = [0 for _ in cmds]
    for r in range(a.warmup + a.rounds):
        for i, c in enumerate(cmds):
            t, _ = run(c)
            if r >= a.warmup:
                times[i].append(t)
    # Peak RSS, one more run each (ru_maxrss of the children is a running maximum, so measure in a fresh child).
    for i, c in enumerate(cmds):
        out = subprocess.run(["/usr/bin/time", "-f", "%M"] + c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        rss[i] = int(out.stderr.strip().splitlines()[-1])
    base = statistics.median(times[0])
    if a.markdown:
        print("| command | median | min | ratio to the first | peak RSS |")
        print("|---|---|---|---|---|")
    for i, c in enumerate(cmds):
        med = statistics.median(times[i])
        line = (shlex.join(c), f"{med * 1000:.1f} ms", f"{min(times[i]) * 1000:.1f} ms", f"{med / base:.2f}", f"{rss[i] / 1024:.0f} MB")
        print(("| " + " | ".join(line) + " |") if a.markdown else "  ".join(line))


if __name__ == "__main__":
    main()
