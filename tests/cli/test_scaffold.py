"""scaffold.py: `lunik new` from real template files."""

import os
import unittest

from clitest import TempDir
from lunikcli import scaffold
from lunikcli.errors import Error


class Scaffold(unittest.TestCase):
    def test_kinds(self):
        for kind, names in (("script", ["main.lua", "greet.lua",
                                        "greet_spec.lua"]),
                            ("http", ["main.lua", "routes.lua",
                                      "routes_spec.lua"])):
            with TempDir() as d:
                app = os.path.join(d, "my-app")
                self.assertEqual(scaffold.create(app, kind), names)
                with open(os.path.join(app, "main.lua")) as f:
                    text = f.read()
                self.assertIn("my-app", text)
                self.assertNotIn("@name@", text)

    def test_templates_are_lua(self):
        for kind in scaffold.KINDS:
            for name, path in scaffold.template_files(kind):
                self.assertTrue(name.endswith(".lua"), path)

    def test_refuses_a_full_folder(self):
        with TempDir() as d:
            open(os.path.join(d, "x"), "w").close()
            with self.assertRaisesRegex(Error, "not empty"):
                scaffold.create(d, "script")
            with self.assertRaisesRegex(Error, "no such app kind"):
                scaffold.create(os.path.join(d, "n"), "gui")


if __name__ == "__main__":
    unittest.main()
