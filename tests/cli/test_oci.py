"""oci.py: references, the manifest and config a push writes."""

import json
import unittest

from lunikcli import oci
from lunikcli.errors import Error


class Oci(unittest.TestCase):
    def test_refs(self):
        r = oci.Ref("127.0.0.1:5000/team/api:1.2")
        self.assertEqual((r.host, r.name, r.tag, r.digest),
                         ("127.0.0.1:5000", "team/api", "1.2", None))
        self.assertTrue(r.loopback())
        r = oci.Ref("registry.example/api")
        self.assertEqual((r.tag, r.reference()), ("latest", "latest"))
        self.assertFalse(r.loopback())
        d = "sha256:" + "ab" * 32
        r = oci.Ref("localhost:5000/api@" + d)
        self.assertEqual((r.tag, r.reference()), (None, d))
        for bad in ("api", "Host/UPPER", "h:5000/a:b:c", "/abs/path.elf"):
            with self.assertRaisesRegex(Error, "not an image reference"):
                oci.Ref(bad)

    def test_looks_like_ref(self):
        self.assertTrue(oci.looks_like_ref("127.0.0.1:5000/api:1"))
        self.assertTrue(oci.looks_like_ref("localhost/api"))
        self.assertFalse(oci.looks_like_ref("examples/api"))
        self.assertFalse(oci.looks_like_ref("build/api.elf"))

    def test_manifest(self):
        config = oci.config_blob(["a=1"], "64M", "microvm")
        self.assertEqual(json.loads(config)["args"], ["a=1"])
        m = json.loads(oci.manifest_blob(config, b"elf", "api.elf"))
        self.assertEqual(m["config"], {"mediaType": oci.CONFIG_TYPE,
                                       "digest": oci.sha256(config),
                                       "size": len(config)})
        self.assertEqual(m["layers"][0]["digest"], oci.sha256(b"elf"))
        self.assertEqual(oci.manifest_blob(config, b"elf", "api.elf"),
                         oci.manifest_blob(config, b"elf", "api.elf"))
