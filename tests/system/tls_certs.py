#!/usr/bin/env python3
"""tls_certs.py -- throwaway certificates for the TLS tests, made with the
host's openssl at test time (nothing secret is committed).

  python3 tests/system/tls_certs.py OUTDIR     writes them to OUTDIR

make(outdir) writes, each as NAME.pem with its key NAME.key (EC P-256
unless said):
  ca          "lunik test CA", self-signed, the CA the tests trust
  other-ca    another CA, trusted by nobody
  server      signed by ca: CN localhost, SAN localhost and test.lunik
  alt         signed by ca: alt.lunik (the SNI test's second name)
  rsa         signed by ca: RSA 2048, rsa.lunik and localhost
  expired     signed by ca: localhost, valid 2020-01-01 to 2021-01-01
  stranger    signed by other-ca: localhost
  bundle.pem  the "system" CA bundle of the spec image: ca then other
              certificates, as a distribution's bundle holds many
  server.der, server-key.der   server's certificate and key in DER
Leaf certificates are valid from a day ago for 30 days, so the files are
remade for each test run rather than kept.
"""

import os
import shutil
import subprocess
import sys

LEAF_EXT = """\
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = %s
"""

# openssl ca, only for its -startdate/-enddate: `openssl x509 -req` of
# OpenSSL 3.0 cannot date a certificate in the past.
CA_CONF = """\
[ca]
default_ca = test_ca
[test_ca]
dir = %(dir)s
database = $dir/index.txt
new_certs_dir = $dir
serial = $dir/serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
"""

LEAVES = {
    # name: (CA, subject CN, SAN, key kind, start, end)
    "server": ("ca", "localhost", "DNS:localhost, DNS:test.lunik", "ec",
               None, None),
    "alt": ("ca", "alt.lunik", "DNS:alt.lunik", "ec", None, None),
    "rsa": ("ca", "rsa.lunik", "DNS:rsa.lunik, DNS:localhost", "rsa",
            None, None),
    "expired": ("ca", "localhost", "DNS:localhost", "ec",
                "20200101000000Z", "20210101000000Z"),
    "stranger": ("other-ca", "localhost", "DNS:localhost", "ec", None, None),
}


def run(argv, cwd):
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(argv), r.stderr.strip()))
    return r.stdout


def key(out, name, kind):
    if kind == "rsa":
        alg = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
    else:
        alg = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
    run(["openssl", "genpkey"] + alg + ["-out", name + ".key"], out)


def self_signed(out, name, cn):
    key(out, name, "ec")
    run(["openssl", "req", "-new", "-x509", "-key", name + ".key",
         "-subj", "/CN=" + cn, "-days", "3650", "-sha256",
         "-addext", "basicConstraints=critical,CA:true",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign",
         "-out", name + ".pem"], out)


def leaf(out, name, ca, cn, san, kind, start, end):
    key(out, name, kind)
    run(["openssl", "req", "-new", "-key", name + ".key", "-subj",
         "/CN=" + cn, "-out", name + ".csr"], out)
    with open(os.path.join(out, name + ".ext"), "w") as f:
        f.write("[leaf]\n" + LEAF_EXT % san)
    run(["openssl", "ca", "-config", "ca.conf", "-batch", "-notext",
         "-cert", ca + ".pem", "-keyfile", ca + ".key",
         "-in", name + ".csr", "-out", name + ".pem",
         "-extfile", name + ".ext", "-extensions", "leaf",
         "-startdate", start or _days_ago(1),
         "-enddate", end or _days_ago(-30)], out)


def _days_ago(n):
    import datetime
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=n)
    return t.strftime("%Y%m%d%H%M%SZ")


def make(out):
    """Writes the certificates to the folder out (created); returns out."""
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    with open(os.path.join(out, "ca.conf"), "w") as f:
        f.write(CA_CONF % {"dir": "."})
    open(os.path.join(out, "index.txt"), "w").close()
    with open(os.path.join(out, "serial"), "w") as f:
        f.write("1000\n")
    self_signed(out, "ca", "lunik test CA")
    self_signed(out, "other-ca", "lunik other test CA")
    for name, spec in LEAVES.items():
        leaf(out, name, *spec)
    with open(os.path.join(out, "bundle.pem"), "w") as f:
        for n in ("other-ca", "ca"):
            with open(os.path.join(out, n + ".pem")) as c:
                f.write(c.read())
    run(["openssl", "x509", "-in", "server.pem", "-outform", "DER",
         "-out", "server.der"], out)
    run(["openssl", "pkey", "-in", "server.key", "-outform", "DER",
         "-out", "server-key.der"], out)
    for fname in os.listdir(out):  # openssl ca's bookkeeping
        if not fname.endswith((".pem", ".key", ".der")) or fname[0].isdigit():
            os.unlink(os.path.join(out, fname))
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: tls_certs.py OUTDIR")
    print(make(sys.argv[1]))
