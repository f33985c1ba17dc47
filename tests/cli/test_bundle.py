"""bundle.py: the require scanner and what gets bundled from --lua-path."""

import os
import unittest

from clitest import ROOT, TempDir, write
from lunikcli import bundle


class Requires(unittest.TestCase):
    def test_literal_names_only(self):
        """Literal names in the forms Lua allows, never inside comments or
        strings, nor methods or fields named require; pcall(require, "x")
        is optional."""
        src = r"""
        local a = require "plain"
        local b = require("paren.ed")
        local c = require [[long.bracket]]
        local d = require [==[level.two]==]
        local ok, e = pcall(require, 'optional.one')
        local f = require'no.space'
        -- require "in.comment"
        --[[ require "in.long.comment" ]]
        --[==[ require "in.level.comment" ]==]
        local s = "require 'in.string'"
        local t = [[ require "in.long.string" ]]
        obj.require "field.call"
        obj:require "method.call"
        local g = require(name_in_a_variable)
        local h = require "bad name"
        local i = require "esc\097ped"
        """
        self.assertEqual(bundle.requires(src), [
            ("plain", False), ("paren.ed", False), ("long.bracket", False),
            ("level.two", False), ("optional.one", True), ("no.space", False)])


class Bundling(unittest.TestCase):
    def test_follows_requires_through_lua_path(self):
        with TempDir() as d:
            app = os.path.join(d, "app")
            lp = os.path.join(d, "lp")
            write(os.path.join(app, "main.lua"), 'require "a"; require "own"')
            write(os.path.join(app, "own.lua"), "")
            write(os.path.join(lp, "a.lua"), 'require "b.c"; require "http"')
            write(os.path.join(lp, "b", "c", "init.lua"), "")
            write(os.path.join(lp, "own.lua"), "-- shadowed by the app's")
            files, warnings = bundle.bundle(app, [lp], [], ROOT)
            self.assertEqual([n for n, _, _ in files],
                             ["app/a.lua", "app/b/c/init.lua"])
            self.assertEqual(warnings, [])

    def test_c_modules_and_missing_ones(self):
        with TempDir() as d:
            app = os.path.join(d, "app")
            lp = os.path.join(d, "lp")
            write(os.path.join(app, "main.lua"),
                  'local ok = pcall(require, "gone")\nrequire "fast"')
            write(os.path.join(lp, "fast.so"), "")
            with self.assertRaisesRegex(bundle.BundleError, "C module"):
                bundle.bundle(app, [lp], [], ROOT)
            write(os.path.join(app, "main.lua"), 'pcall(require, "gone")')
            _, warnings = bundle.bundle(app, [lp], [], ROOT)
            self.assertEqual(len(warnings), 1)
            self.assertIn("'gone'", warnings[0])
            with self.assertRaisesRegex(bundle.BundleError, "--include nope"):
                bundle.bundle(app, [lp], ["nope"], ROOT)

    def test_builtins_know_bindings_and_stdlib(self):
        known = bundle.builtins(ROOT)
        for name in ("http", "http.server", "kv", "net", "tls", "string"):
            self.assertIn(name, known)


if __name__ == "__main__":
    unittest.main()
