"""suite_crypto.py -- system tests of mbedTLS in lunik and the crypto
module: mbedTLS's own self-tests in the guest, certificate dates against
the guest's clock, crypto.random over every behaviour of an entropy
source, and the in-guest crypto specs with entropy present.

Until the kernel provides plat_random() (its entropy driver is on another
branch), runtime/entropy.c has a weak stand-in that says "no source"; the
images here then link tests/system/rng_stub.c, a test-only source. Once
build/lunik.o defines plat_random itself, the stub no longer links and
these tests use the machine's real source instead.
"""

import os
import re
import shutil
import subprocess
import tempfile

from harness import APPS, BUILD, ROOT, Failure, build, test

LUNIK_O = os.path.join(ROOT, "build", "lunik.o")
SELFTEST_OBJ = os.path.join(BUILD, "mbedtls_selftest.o")
STUB_OBJ = os.path.join(BUILD, "rng_stub.o")
MBEDTLS_DATA = os.path.join(ROOT, "build", "src", "mbedtls", "tests",
                            "data_files")
TEST_ENTRY = "stdlib/lunik/test_main.lua"

# Every self-test mbedTLS has for the algorithms lunik enables.
SELFTESTS = ("sha1", "sha256", "sha512", "aes", "gcm", "chacha20",
             "poly1305", "chacha20-poly1305", "base64", "mpi", "rsa",
             "x509", "ctr_drbg", "hmac_drbg", "ecp", "entropy")
CERTS = ("test-ca-sha256.crt", "server5-expired.crt", "server5-future.crt")


def need(path):
    if not os.path.exists(path):
        raise Failure("%s is missing: `make test` builds it" % path)
    return path


def stub_needed():
    """True while plat_random in build/lunik.o is only the weak stand-in."""
    out = subprocess.run(["nm", need(LUNIK_O)], capture_output=True,
                         text=True, check=True).stdout
    if re.search(r"^\S+ [TD] plat_random$", out, re.M):
        return False
    if not re.search(r"^\S+ [Ww] plat_random$", out, re.M):
        raise Failure("build/lunik.o has no plat_random at all")
    return True


def entropy_objs():
    return [need(STUB_OBJ)] if stub_needed() else []


def temp_app(files):
    """A fresh app folder holding files {name: source path}."""
    tmp = tempfile.mkdtemp(prefix="lunik-crypto-")
    for name, src in files.items():
        shutil.copy(src, os.path.join(tmp, name))
    return tmp


@test
def test_crypto_mbedtls_selftest(ctx):
    files = {"main.lua": os.path.join(APPS, "crypto_selftest", "main.lua")}
    for c in CERTS:
        files[c] = need(os.path.join(MBEDTLS_DATA, c))
    app = temp_app(files)
    try:
        image = build(app, link=[need(SELFTEST_OBJ)] + entropy_objs(),
                      out=os.path.join(BUILD, "crypto-selftest.elf"))
        r = ctx.run_image(image).expect_status(0)
    finally:
        shutil.rmtree(app)
    r.expect(*[r"^selftest %s ok$" % re.escape(n) for n in SELFTESTS])
    r.expect_not(r"FAILED")
    # The guest's clock reaches mbedTLS (time, gmtime): a certificate valid
    # now (to 2029) is neither expired nor early, the others are.
    r.expect(r"^cert test-ca-sha256\.crt from=2019-02-10 14:44:00 "
             r"to=2029-02-10 14:44:00 expired=false not_yet_valid=false$",
             r"^cert server5-expired\.crt .* expired=true not_yet_valid=false$",
             r"^cert server5-future\.crt .* expired=false not_yet_valid=true$",
             r"^bad cert: X509 - ")
    rate = float(r.find(r"^sha256 (\S+) MB/s$").group(1))
    if rate < 1:
        r.fail("SHA-256 ran at %.2f MB/s: built without optimisation?" % rate)


@test
def test_crypto_entropy_sources(ctx):
    linked = entropy_objs()
    r = ctx.boot("crypto_entropy", link=linked).expect_status(0)
    if not linked:
        r.expect(r"^real: ok 32$", r"^distinct: true$")
        return
    r.expect(
        r"^none: nil no entropy source: the machine has no RDSEED/RDRAND "
        r"and no virtio-rng device$",
        r"^fail: nil entropy source failed$",
        r"^stuck: nil entropy source timed out$",
        r"^partial: ok 32$",
        r"^ok: ok 5000$",
        r"^distinct: true$",
        r"^reseeded: true$",
        r"^reseed failure: entropy source failed$",
        r"^recovered: ok 8$")
    took = float(r.find(r"^stuck gave up after (\S+) s$").group(1))
    if not 0.5 <= took <= 5:
        r.fail("a source that never answers was given up after %.2f s, "
               "not about 1 s" % took)
    polls = int(r.find(r"^partial polls: (\d+)$").group(1))
    if polls < 10:
        r.fail("a source giving 5 bytes at most was polled %d times" % polls)


@test
def test_crypto_specs_with_entropy(ctx):
    """tests/lua/crypto_spec.lua where an entropy source exists, so its
    crypto.random branch runs (sys.args.entropy makes it required)."""
    app = temp_app({"crypto_spec.lua":
                    os.path.join(ROOT, "tests", "lua", "crypto_spec.lua")})
    try:
        image = build(app, link=entropy_objs(), entry=TEST_ENTRY,
                      out=os.path.join(BUILD, "crypto-specs.elf"))
        r = ctx.run_image(image, ["entropy=required"])
    finally:
        shutil.rmtree(app)
    r.expect_status(0).expect(r"^ok\s+\d+ - crypto\.random gives n bytes",
                              r"^\d+ passed, 0 failed$").expect_not(r"^FAIL")
