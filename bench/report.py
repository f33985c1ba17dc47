"""bench/report.py -- the results of a bench run as latest.md (a table per
row: each lunik figure beside its baseline and the ratio), latest.json
(everything, raw runs included) and latest.png (a chart of the ratios,
drawn by gnuplot when it is installed).
"""

import json
import math
import os
import shutil
import subprocess

TITLES = {"boot": "Boot", "size": "Size", "memory": "Memory floor",
          "http": "HTTP and HTTPS", "build": "Build", "density": "Density"}


def jsonable(v):
    try:
        json.dumps(v)
        return True
    except (TypeError, ValueError):
        return False


def _num(x, unit):
    if x is None:
        return "-"
    if unit in ("B",):
        return "{:,}".format(int(round(x)))
    if abs(x) >= 1000:
        return "{:,.0f}".format(x)
    if abs(x) >= 100:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    return "%.2f" % x


def _cell(st, unit):
    """"median unit (min-max)", or just the value for a single run."""
    if not st:
        return "-"
    u = " " + unit if unit else ""
    if st.get("runs", 1) <= 1 or st["min"] == st["max"]:
        return _num(st["median"], unit) + u
    return "%s%s (%s-%s)" % (_num(st["median"], unit), u,
                             _num(st["min"], unit), _num(st["max"], unit))


def _ratio(f):
    r = f.get("ratio")
    if r is None:
        return "-"
    if r >= 10 or r < 0.1:
        txt = "%.3gx" % r
    else:
        txt = "%.2fx" % r
    good = (r < 1) if f["better"] == "lower" else (r > 1)
    return txt + (" (better)" if good and abs(r - 1) > 0.02 else "")


def _clauses(note):
    """A note's clauses: split on ";" outside parentheses."""
    if not note:
        return []
    out, depth, cur = [], 0, ""
    for ch in note:
        depth += (ch == "(") - (ch == ")")
        if ch == ";" and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return [c for c in out if c]


def markdown(res):
    h = res["host"]
    md = ["# lunik benchmark results", "",
          "Measured %s by `make bench%s` on %d CPUs (%s), %s GiB, Linux %s, "
          "%s. Accelerators: %s.%s" % (
              res["date"], "-quick" if res["quick"] else "", h["cpus"],
              h["cpu"], h["mem_gib"], h["kernel"], h["qemu"],
              ", ".join(res["accels"]),
              (" KVM not measured: %s." % res["kvm_unusable"])
              if res.get("kvm_unusable") else ""), "",
          "Each cell: median (min-max) over the runs; ratio = lunik's "
          "median / the baseline's, both from this run. The notes say what "
          "dominates each figure.", ""]
    rows = []
    for f in res["figures"]:
        if f["row"] not in rows:
            rows.append(f["row"])
    for row in rows:
        md += ["## " + TITLES.get(row, row), "",
               "| figure | lunik | baseline | baseline figure | ratio |",
               "| --- | --- | --- | --- | --- |"]
        # A note is clauses joined by "; "; each distinct clause is listed
        # once under the table and figures point at theirs.
        clauses = []
        for f in (f for f in res["figures"] if f["row"] == row):
            marks = []
            for c in _clauses(f.get("note")):
                if c not in clauses:
                    clauses.append(c)
                marks.append(str(clauses.index(c) + 1))
            mark = " [%s]" % ",".join(marks) if marks else ""
            md.append("| %s%s | %s | %s | %s | %s |" % (
                f["name"], mark, _cell(f["lunik"], f["unit"]),
                f.get("baseline_name") or "-",
                _cell(f["baseline"], f["unit"]), _ratio(f)))
        md.append("")
        for i, c in enumerate(clauses, 1):
            md.append("%d. %s" % (i, c))
        if clauses:
            md.append("")
    for row, err in res.get("rows_failed", {}).items():
        md += ["Row %s did not finish: %s" % (row, err), ""]
    md.append("Run time: %s s (%s)." % (res["seconds"], ", ".join(
        "%s %s s" % kv for kv in res["row_seconds"].items())))
    return "\n".join(md) + "\n"


def chart(res, png):
    """A horizontal bar per figure with a baseline: lunik / baseline on a
    log axis, so 'better' reads the same for both directions (bars are
    flipped to baseline / lunik where higher is better). Returns False
    when gnuplot is missing."""
    if not shutil.which("gnuplot"):
        return False
    data = []
    for f in res["figures"]:
        r = f.get("ratio")
        if not r:
            continue
        adv = 1 / r if f["better"] == "lower" else r
        label = "%s: %s" % (f["row"], f["name"])
        host = "host" in (f.get("baseline_name") or "")
        data.append((label.replace('"', "'")[:80], adv, host))
    if not data:
        return False
    advs = [a for _, a, _ in data]
    lo = 10 ** math.floor(math.log10(min(advs + [0.5])))
    hi = 10 ** math.ceil(math.log10(max(advs + [2.0])))
    dat = png + ".dat"
    with open(dat, "w") as f:
        for i, (label, adv, host) in enumerate(data):
            # the first figure on top
            f.write('%d %g "%s" %d\n' % (len(data) - 1 - i, adv, label,
                                          host))
    height = 120 + 22 * len(data)
    script = """
set terminal pngcairo size 1300,%d font ",9"
set output "%s"
set title "lunik vs its baselines, times better (right of 1: lunik wins; grey: vs nginx on the host, no VM)"
set logscale x 10
set xrange [%g:%g]
set yrange [-1:%d]
set ytics nomirror
set grid xtics
set style fill solid 0.8
set arrow from 1, graph 0 to 1, graph 1 nohead lw 2
unset key
plot "%s" using 2:1:(($2<1)?$2:1):(($2<1)?1:$2):($1-0.35):($1+0.35):\
     ($4 > 0 ? 0x909090 : 0x3070b0):ytic(3) with boxxyerror lc rgb variable
""" % (height, png, lo, hi, len(data), dat)
    try:
        r = subprocess.run(["gnuplot"], input=script, text=True,
                           capture_output=True, timeout=60)
    finally:
        os.unlink(dat)
    if r.returncode != 0:
        print("bench: gnuplot failed: %s" % r.stderr.strip()[-300:])
        if os.path.exists(png):
            os.unlink(png)
        return False
    return True


def write(res, out):
    os.makedirs(out, exist_ok=True)
    png = os.path.join(out, "latest.png")
    res["chart"] = chart(res, png)
    text = markdown(res)
    if res["chart"]:
        text += "\n![lunik against its baselines](latest.png)\n"
    with open(os.path.join(out, "latest.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "latest.json"), "w") as f:
        json.dump(res, f, indent=2)
    return text


if __name__ == "__main__":
    # Re-renders latest.md and latest.png from a latest.json.
    import sys
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results", "latest.json")
    with open(src) as f:
        res = json.load(f)
    print(write(res, os.path.dirname(os.path.abspath(src))))
