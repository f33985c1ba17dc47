"""main.py and options.py: parsing, boot arguments, and one line with
status 2 for bad input."""

import contextlib
import io
import unittest

from lunikcli import main


def run(*argv):
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            status = main.main(list(argv))
        except SystemExit as e:
            status = e.code
    return status, out.getvalue(), err.getvalue()


class Main(unittest.TestCase):
    def test_boot_args_split(self):
        self.assertEqual(main.split_boot_args(["run", "x", "--", "a=1", "--"]),
                         (["run", "x"], ["a=1", "--"]))
        self.assertEqual(main.split_boot_args(["build", "x"]),
                         (["build", "x"], []))

    def test_every_command_parses(self):
        p = main.parser()
        for argv in (["new", "x"], ["build", "x", "-o", "y", "-g"],
                     ["run", "x", "--mem", "64M", "-p", "1:2", "--disk", "d"],
                     ["test", "x", "--tcg", "--timeout", "5"],
                     ["inspect", "x"], ["accel"]):
            self.assertTrue(callable(p.parse_args(argv).fn), argv)

    def test_status_option(self):
        p = main.parser()
        self.assertEqual(p.parse_args(["run", "x", "--status"]).status, 5.0)
        self.assertEqual(p.parse_args(["run", "x", "--status", "2"]).status, 2.0)
        status, _, err = run("run", "/nonexistent.elf", "--status", "0")
        self.assertEqual(status, 2)
        self.assertIn("--status 0: give seconds from 0.1 to 86400", err)

    def test_bad_input_is_one_line_and_status_2(self):
        status, _, err = run("run", "--frobnicate")
        self.assertEqual(status, 2)
        status, _, err = run("run", "/nonexistent/x.elf", "--mem", "lots")
        self.assertEqual((status, err.count("\n")), (2, 1))
        self.assertIn("bad size 'lots'", err)
        status, _, err = run("build", "x", "--", "a=1")
        self.assertEqual(status, 2)
        self.assertIn("boot arguments after -- are only for domain, push, run, test, watch", err)
        status, _, err = run("inspect", "/nonexistent/image.elf")
        self.assertEqual((status, err), (2, "lunik: /nonexistent/image.elf: "
                                            "no such image\n"))


if __name__ == "__main__":
    unittest.main()
