"""suite_crypto.py -- system tests of mbedTLS in lunik and the crypto
module: mbedTLS's own self-tests in the guest, certificate dates against
the guest's clock, crypto.random over the machine's real entropy source
and over every behaviour of a simulated one (tests/system/rng_stub.c),
and the in-guest crypto specs with entropy required.
"""

import os
import re
import shutil
import tempfile

from harness import (APPS, BUILD, LUNIK, ROOT, Failure, Result, build,
                     run_cmd, test)

SELFTEST_OBJ = os.path.join(BUILD, "mbedtls_selftest.o")
STUB_OBJ = os.path.join(BUILD, "rng_stub.o")
MBEDTLS_DATA = os.path.join(ROOT, "build", "src", "mbedtls", "framework",
                            "data_files")
TEST_ENTRY = "stdlib/lunik/test_main.lua"

# Every self-test mbedTLS has for the algorithms lunik enables.
SELFTESTS = ("sha1", "sha256", "sha384", "sha512", "aes", "gcm", "chacha20",
             "poly1305", "chacha20-poly1305", "base64", "mpi", "rsa",
             "ctr_drbg", "hmac_drbg", "ecp", "entropy")
CERTS = ("test-ca-sha256.crt", "server5-expired.crt", "server5-future.crt")
NO_SOURCE = (r"no entropy source: the machine has no RDSEED/RDRAND and no "
             r"virtio-rng device")


def need(path):
    if not os.path.exists(path):
        raise Failure("%s is missing: `make test` builds it" % path)
    return path


def temp_app(files):
    """A fresh app folder holding files {name: source path}."""
    tmp = tempfile.mkdtemp(prefix="lunik-crypto-")
    for name, src in files.items():
        shutil.copy(src, os.path.join(tmp, name))
    return tmp


def run(ctx, image, opts=(), args=()):
    """Boots image with the launcher options opts (e.g. --no-rng)."""
    timeout = 30 if ctx.accel == "kvm" else 90
    argv = [LUNIK, "run", image, "--" + ctx.accel, "--timeout",
            str(timeout)] + list(opts)
    if args:
        argv += ["--"] + list(args)
    return Result(*run_cmd(argv, timeout + 30))


@test
def test_crypto_mbedtls_selftest(ctx):
    files = {"main.lua": os.path.join(APPS, "crypto_selftest", "main.lua")}
    for c in CERTS:
        files[c] = need(os.path.join(MBEDTLS_DATA, c))
    app = temp_app(files)
    try:
        image = build(app, link=[need(SELFTEST_OBJ)],
                      out=os.path.join(BUILD, "crypto-selftest.elf"))
        r = run(ctx, image).expect_status(0)
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
def test_crypto_entropy_real(ctx):
    """The machine's own source: virtio-rng (and RDRAND under KVM); none at
    all under TCG's qemu64 without the device."""
    image = build("crypto_entropy")
    run(ctx, image).expect_status(0).expect(r"^real: ok 32$",
                                            r"^distinct: true$")
    r = run(ctx, image, ["--no-rng"]).expect_status(0)
    if ctx.accel == "tcg":  # qemu64 has no RDRAND: no source at all
        r.expect(r"^real: nil %s$" % NO_SOURCE).expect_not(r"^distinct")
    else:
        r.expect(r"^real: ok 32$", r"^distinct: true$")


@test
def test_crypto_entropy_sources(ctx):
    """Every behaviour of a source, simulated by rng_stub.c."""
    r = ctx.boot("crypto_entropy", link=[need(STUB_OBJ)]).expect_status(0)
    r.expect(
        r"^none: nil %s$" % NO_SOURCE,
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
    """tests/lua/crypto_spec.lua with the entropy source required, so its
    crypto.random branch runs for sure (sys.args.entropy)."""
    app = temp_app({"crypto_spec.lua":
                    os.path.join(ROOT, "tests", "lua", "crypto_spec.lua")})
    try:
        image = build(app, entry=TEST_ENTRY,
                      out=os.path.join(BUILD, "crypto-specs.elf"))
        r = run(ctx, image, args=["entropy=required"])
    finally:
        shutil.rmtree(app)
    r.expect_status(0).expect(r"^ok\s+\d+ - crypto\.random gives n bytes",
                              r"^\d+ passed, 0 failed$").expect_not(r"^FAIL")
