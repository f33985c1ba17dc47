"""testreport -- what `lunik test` makes of the spec runner's events: TAP
13 on stdout (--tap), a JUnit XML file (--junit), and the name of the
spec that was running when --timeout ended the run.

The runner (stdlib/test.lua) prints, with the boot argument
lunik.test_events, one console line per event: "lunik-test: " and a JSON
object, {"e": "start", "n", "name", "file", "line"}, then {"e": "end",
"n", "status": "ok"|"fail"|"pending", "ms", "message"}, and at the end
{"e": "done", "passed", "failed"}. Report.line() takes each console line
and returns what to print for it: nothing for an event line, or the
line itself; under TAP, the TAP lines for an event and every other
console line as a TAP comment ("# ...").
"""

import json
import re
import xml.etree.ElementTree as ET

PREFIX = b"lunik-test: "
# "app/x_spec.lua:12: message": where an assertion failed.
AT = re.compile(r"^([^\s:]+\.lua):(\d+): ", re.M)


class Report:
    def __init__(self, tap=False):
        self.tap, self.tests, self.running = tap, [], None
        self.started = False

    def line(self, raw):
        """What to print for one console line (bytes, without its end)."""
        text = raw.rstrip(b"\r")
        out = b""
        if self.tap and not self.started:
            self.started = True
            out = b"TAP version 13\n"
        i = text.find(PREFIX)
        if i >= 0:
            try:
                ev = json.loads(text[i + len(PREFIX):].decode())
            except ValueError:
                ev = None
            if isinstance(ev, dict):
                before = text[:i]
                if before.strip():  # the app printed without a newline
                    out += self._plain(before)
                return out + self.event(ev).encode()
        return out + self._plain(text)

    def _plain(self, text):
        if self.tap:
            return b"# " + text + b"\n" if text else b"#\n"
        return text + b"\n"

    def event(self, ev):
        """An event from the runner; the TAP text for it ("" unless
        --tap)."""
        kind = ev.get("e")
        if kind == "start":
            self.running = {"n": ev.get("n"), "name": ev.get("name", "?"),
                            "file": ev.get("file", ""),
                            "line": ev.get("line", 0)}
            return ""
        if kind == "end" and self.running:
            t = dict(self.running, status=ev.get("status", "fail"),
                     ms=float(ev.get("ms") or 0),
                     message=ev.get("message") or "")
            self.running = None
            self.tests.append(t)
            return self.tap_test(t) if self.tap else ""
        if kind == "done" and self.tap:
            return "1..%d\n" % len(self.tests)
        return ""

    def hung(self, seconds):
        """--timeout ended the run: the running test (or None) counts as
        failed; returns it."""
        t = self.running
        if t is None:
            return None
        t = dict(t, status="fail", ms=seconds * 1000.0,
                 message="timed out after %gs (--timeout)" % seconds)
        self.running = None
        self.tests.append(t)
        return t

    def finish_tap(self):
        """The TAP text that closes a run the runner did not finish."""
        return "" if not self.tests else "1..%d\n" % len(self.tests)

    def counts(self):
        c = {"ok": 0, "fail": 0, "pending": 0}
        for t in self.tests:
            c[t["status"]] = c.get(t["status"], 0) + 1
        return c

    def summary(self):
        c = self.counts()
        s = "%d passed, %d failed" % (c["ok"], c["fail"])
        return s + (", %d pending" % c["pending"] if c["pending"] else "")

    def tap_test(self, t):
        status = "ok" if t["status"] != "fail" else "not ok"
        line = "%s %d - %s" % (status, len(self.tests),
                               t["name"].replace("#", "\\#"))
        if t["status"] == "pending":
            line += " # SKIP pending" + (
                ": " + t["message"] if t["message"] else "")
            return line + "\n"
        if t["status"] != "fail":
            return line + "\n"
        yaml = ["  ---", "  message: |"]
        yaml += ["    " + m for m in t["message"].splitlines() or [""]]
        yaml.append("  at: %s" % at(t))
        yaml.append("  duration_ms: %.1f" % t["ms"])
        yaml.append("  ...")
        return line + "\n" + "\n".join(yaml) + "\n"

    def junit(self, path, suite_name):
        """Writes a JUnit XML file: a testsuite per spec file, a testcase
        per test (failure with its message and file:line, skipped when
        pending)."""
        c = self.counts()
        root = ET.Element("testsuites", name=suite_name,
                          tests=str(len(self.tests)), failures=str(c["fail"]),
                          skipped=str(c["pending"]), errors="0",
                          time="%.3f" % (sum(t["ms"] for t in self.tests) / 1e3))
        suites = {}
        for t in self.tests:
            f = t["file"] or suite_name
            s = suites.get(f)
            if s is None:
                s = suites[f] = ET.SubElement(root, "testsuite", name=f,
                                              tests="0", failures="0",
                                              skipped="0", errors="0",
                                              time="0")
            s.set("tests", str(int(s.get("tests")) + 1))
            s.set("time", "%.3f" % (float(s.get("time")) + t["ms"] / 1e3))
            case = ET.SubElement(s, "testcase", name=t["name"],
                                 classname=re.sub(r"\.lua$", "", f).replace(
                                     "/", "."),
                                 file=f, line=str(t["line"]),
                                 time="%.3f" % (t["ms"] / 1e3))
            if t["status"] == "fail":
                s.set("failures", str(int(s.get("failures")) + 1))
                first = (t["message"].splitlines() or [""])[0]
                fail = ET.SubElement(case, "failure", message=first,
                                     type="failure")
                fail.text = "%s\n%s" % (at(t), t["message"])
            elif t["status"] == "pending":
                s.set("skipped", str(int(s.get("skipped")) + 1))
                ET.SubElement(case, "skipped", message=t["message"] or
                              "pending")
        ET.ElementTree(root).write(path, encoding="utf-8",
                                   xml_declaration=True)


def at(t):
    """file:line of a failure: where its message says it failed, else
    where the test is defined."""
    m = AT.search(t["message"])
    if m:
        return "%s:%s" % (m.group(1), m.group(2))
    return "%s:%s" % (t["file"], t["line"])
