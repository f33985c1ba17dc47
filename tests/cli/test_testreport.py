"""testreport.py: the spec runner's events as TAP, JUnit and the name of
a hung test."""

import json
import os
import tempfile
import unittest
import xml.etree.ElementTree as ET

from lunikcli import testreport


def ev(**kw):
    return testreport.PREFIX + json.dumps(kw).encode()


class Report(unittest.TestCase):
    def feed(self, rep):
        out = b""
        out += rep.line(b"booting\r")
        out += rep.line(ev(e="start", n=1, name="a works", file="a_spec.lua",
                           line=2))
        out += rep.line(ev(e="end", n=1, status="ok", ms=1.5))
        out += rep.line(ev(e="start", n=2, name="a # fails", file="a_spec.lua",
                           line=5))
        out += rep.line(ev(e="end", n=2, status="fail", ms=2,
                           message="a_spec.lua:6: expected: 1\nactual: 2"))
        out += rep.line(ev(e="start", n=3, name="b later", file="b_spec.lua",
                           line=1))
        out += rep.line(ev(e="end", n=3, status="pending", ms=0))
        return out

    def test_plain_hides_events(self):
        rep = testreport.Report()
        self.assertEqual(self.feed(rep), b"booting\n")
        self.assertEqual(rep.summary(), "1 passed, 1 failed, 1 pending")

    def test_tap(self):
        rep = testreport.Report(tap=True)
        out = (self.feed(rep) + rep.line(ev(e="done"))).decode()
        self.assertTrue(out.startswith("TAP version 13\n# booting\nok 1 - a works\n"))
        self.assertIn("not ok 2 - a \\# fails\n  ---\n  message: |\n"
                      "    a_spec.lua:6: expected: 1\n    actual: 2\n"
                      "  at: a_spec.lua:6\n", out)
        self.assertIn("ok 3 - b later # SKIP pending\n", out)
        self.assertTrue(out.endswith("1..3\n"))

    def test_junit_and_hung(self):
        rep = testreport.Report()
        self.feed(rep)
        rep.line(ev(e="start", n=4, name="b hangs", file="b_spec.lua", line=9))
        hung = rep.hung(5)
        self.assertEqual((hung["name"], hung["line"]), ("b hangs", 9))
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "j.xml")
            rep.junit(path, "app")
            root = ET.parse(path).getroot()
        self.assertEqual([root.get(k) for k in ("tests", "failures", "skipped")],
                         ["4", "2", "1"])
        suites = {s.get("name"): s for s in root}
        self.assertEqual(suites["b_spec.lua"].get("failures"), "1")
        fail = [c for c in root.iter("testcase") if c.get("name") == "a # fails"][0]
        self.assertEqual(fail.find("failure").get("message"),
                         "a_spec.lua:6: expected: 1")
