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
        local j = require("part" .. suffix)
        local ok, k = pcall(require, "part" .. suffix)
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
            sel = bundle.bundle(app, [lp], [], ROOT)
            self.assertEqual([n for n, _, _ in sel.files],
                             ["app/a.lua", "app/b/c/init.lua"])
            self.assertEqual(sel.warnings, [])

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
            warnings = bundle.bundle(app, [lp], [], ROOT).warnings
            self.assertEqual(len(warnings), 1)
            self.assertIn("'gone'", warnings[0])
            with self.assertRaisesRegex(bundle.BundleError, "--include nope"):
                bundle.bundle(app, [lp], ["nope"], ROOT)

    def test_selects_what_the_app_requires(self):
        """Only the bindings and stdlib modules the app's requires reach
        (and the runtime's own) go in; the rest is listed as omitted."""
        with TempDir() as d:
            write(os.path.join(d, "main.lua"), 'local log = require "log"')
            sel = bundle.bundle(d, [], [], ROOT)
            self.assertIn("log.lua", sel.stdlib)
            self.assertIn("lunik/shutdown.lua", sel.stdlib)
            self.assertNotIn("http/init.lua", sel.stdlib)
            self.assertIn("sys", sel.c_modules)
            self.assertNotIn("net", sel.c_modules)
            self.assertIn("http", sel.omitted)
            self.assertIn("net", sel.omitted)
            self.assertIn("luaopen_sys", bundle.openers(sel, ROOT))
            sel = bundle.bundle(d, [], ["net", "kv"], ROOT)
            self.assertIn("net", sel.c_modules)
            self.assertIn("kv/disk.lua", sel.stdlib)
            self.assertIn("kvcodec", sel.c_modules)

    def test_tls_only_when_the_app_asks_for_it(self):
        """http requires tls only on its TLS paths: tls goes in when the
        app's code names a tls option or an https URL, or --include asks."""
        with TempDir() as d:
            write(os.path.join(d, "main.lua"),
                  'local http = require "http"\nhttp.app():listen(80)')
            self.assertNotIn("tls", bundle.bundle(d, [], [], ROOT).c_modules)
            self.assertIn("tls", bundle.bundle(d, [], ["tls"], ROOT).c_modules)
            for use in ('app:listen(443, { tls = opts })',
                        'http.get("https://example.org/")'):
                write(os.path.join(d, "main.lua"),
                      'local http = require "http"\n' + use)
                sel = bundle.bundle(d, [], [], ROOT)
                self.assertIn("tls", sel.c_modules, use)
                self.assertNotIn("tls", sel.omitted, use)

    def test_builtins_know_bindings_and_stdlib(self):
        known = bundle.builtins(ROOT)
        for name in ("http", "http.server", "kv", "net", "tls", "string"):
            self.assertIn(name, known)


if __name__ == "__main__":
    unittest.main()
