"""suite_oci.py -- images through an OCI registry: Debian's
docker-registry started here on loopback with a temporary config, `lunik
push`, `lunik pull` and `lunik run REF` against it, and skopeo's reading
of what was pushed."""

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from harness import (LUNIK, ROOT, Failure, build, free_port, need_tool,
                     run_cmd, test, test_once)

CONFIG = """version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: %s
  maintenance:
    readonly:
      enabled: %s
http:
  addr: 127.0.0.1:%d
"""


AUTH = """auth:
  htpasswd:
    realm: lunik-test
    path: %s
"""


@contextlib.contextmanager
def registry(readonly=False, user=None):
    """A docker-registry on 127.0.0.1 in a temporary folder (with HTTP
    Basic authentication of (user, password) when given); yields its
    HOST:PORT and stops it by its pid."""
    need_tool("docker-registry", "docker-registry")
    tmp = tempfile.mkdtemp(prefix="lunik-t-registry-")
    port = free_port(socket.SOCK_STREAM)
    conf = os.path.join(tmp, "config.yml")
    with open(conf, "w") as f:
        f.write(CONFIG % (os.path.join(tmp, "data"),
                          "true" if readonly else "false", port))
        if user:
            need_tool("htpasswd", "apache2-utils")
            pw = os.path.join(tmp, "htpasswd")
            subprocess.run(["htpasswd", "-Bbc", pw] + list(user), check=True,
                           capture_output=True, timeout=30)
            f.write(AUTH % pw)
    log = open(os.path.join(tmp, "log"), "wb")
    proc = subprocess.Popen(["docker-registry", "serve", conf], stdout=log,
                            stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/v2/" % port,
                                            timeout=2) as r:
                    if r.status == 200:
                        break
            except urllib.error.HTTPError as e:
                if e.code == 401 and user:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                with open(os.path.join(tmp, "log"), errors="replace") as f:
                    raise Failure("docker-registry did not start:\n%s"
                                  % f.read()[-2000:])
            time.sleep(0.1)
        yield "127.0.0.1:%d" % port
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def lunik(*argv, timeout=180, env=None):
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        rc, out, _, _ = run_cmd([LUNIK] + list(argv), timeout)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return rc, out


def one_line_error(rc, out, what, pattern):
    if rc != 2 or out.count("\n") != 1 or not out.startswith("lunik: ") or \
            pattern not in out:
        raise Failure("%s: expected status 2 and one line with %r, got %s: %r"
                      % (what, pattern, rc, out))


def skopeo(*argv):
    r = subprocess.run(["skopeo"] + list(argv), capture_output=True,
                       text=True, timeout=120)
    if r.returncode != 0:
        raise Failure("skopeo %s: %s" % (" ".join(argv), r.stderr))
    return r.stdout


@test_once
def test_push_pull_round_trip(ctx):
    """push an image, pull it back byte-identical, skopeo reads the same
    manifest and layer; bad input is one line and status 2."""
    need_tool("skopeo", "skopeo")
    image = build("examples/hello")
    with open(image, "rb") as f:
        data = f.read()
    tmp = tempfile.mkdtemp(prefix="lunik-t-oci-")
    try:
        with registry() as host:
            ref = "%s/lunik/hello:1" % host
            rc, out = lunik("push", image, ref, "--", "name=registry")
            if rc != 0:
                raise Failure("push: %s" % out)
            digest = out.split("@", 1)[1].split()[0]
            rc, again = lunik("push", image, ref, "--", "name=registry")
            if rc != 0 or digest not in again:
                raise Failure("a second push gave another digest: %s" % again)
            pulled = os.path.join(tmp, "pulled.elf")
            rc, out = lunik("pull", ref, "-o", pulled)
            if rc != 0 or digest not in out:
                raise Failure("pull: %s" % out)
            with open(pulled, "rb") as f:
                if f.read() != data:
                    raise Failure("the pulled image differs from the pushed")
            rc, out = lunik("pull", "%s/lunik/hello@%s" % (host, digest), "-o",
                            pulled)
            if rc != 0:
                raise Failure("pull by digest: %s" % out)

            raw = skopeo("inspect", "--tls-verify=false", "--raw",
                         "docker://" + ref)
            m = json.loads(raw)
            layer = m["layers"][0]
            if m["config"]["mediaType"] != "application/vnd.lunik.config.v1+json" \
                    or layer["mediaType"] != "application/vnd.lunik.image.v1.elf" \
                    or layer["digest"] != "sha256:" + hashlib.sha256(data).hexdigest():
                raise Failure("skopeo reads the manifest as %s" % raw)
            mfile = os.path.join(tmp, "manifest.json")
            with open(mfile, "w") as f:
                f.write(raw)
            if skopeo("manifest-digest", mfile).strip() != digest:
                raise Failure("skopeo's manifest digest differs from %s" % digest)
            copy = os.path.join(tmp, "copy")
            skopeo("copy", "--src-tls-verify=false", "docker://" + ref,
                   "dir:" + copy)
            with open(os.path.join(copy, layer["digest"].split(":")[1]), "rb") as f:
                if f.read() != data:
                    raise Failure("skopeo's copy of the layer differs")

            rc, out = lunik("pull", "%s/lunik/nothere:1" % host, "-o", pulled)
            one_line_error(rc, out, "a missing REF", "no such image")
            rc, out = lunik("run", "%s/lunik/nothere:1" % host)
            one_line_error(rc, out, "run of a missing REF", "no such image")
        with registry(readonly=True) as host:
            rc, out = lunik("push", image, "%s/lunik/hello:1" % host)
            one_line_error(rc, out, "a read-only registry", "refused")
        rc, out = lunik("push", image, "127.0.0.1:%d/lunik/hello:1"
                        % free_port(socket.SOCK_STREAM))
        one_line_error(rc, out, "no registry", "cannot reach the registry")
        rc, out = lunik("pull", "Not A Ref", "-o", pulled)
        one_line_error(rc, out, "a bad REF", "not an image reference")
        with registry(user=("ci", "s3cret")) as host:
            ref = "%s/lunik/hello:auth" % host
            rc, out = lunik("push", image, ref)
            one_line_error(rc, out, "no credentials", "LUNIK_REGISTRY_USER")
            good = {"LUNIK_REGISTRY_USER": "ci", "LUNIK_REGISTRY_PASSWORD": "s3cret"}
            bad = dict(good, LUNIK_REGISTRY_PASSWORD="wrong")
            rc, out = lunik("push", image, ref, env=bad)
            one_line_error(rc, out, "a wrong password", "refused the credentials")
            rc, out = lunik("push", image, ref, env=good)
            if rc != 0:
                raise Failure("push with credentials: %s" % out)
            rc, out = lunik("pull", ref, "-o", pulled, env=good)
            with open(pulled, "rb") as f:
                if rc != 0 or f.read() != data:
                    raise Failure("pull with credentials: %s" % out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@test
def test_run_ref(ctx):
    """lunik run REF boots an image straight from the registry with the
    boot defaults it was pushed with; arguments given add to them."""
    with registry() as host:
        ref = "%s/lunik/hello:run" % host
        rc, out = lunik("push", os.path.join(ROOT, "examples", "hello"), ref,
                        "--mem", "64M", "--", "name=registry")
        if rc != 0:
            raise Failure("push of a folder: %s" % out)
        r = ctx.lunik("run", ref)
        r.expect_status(0).expect(r"^hello, registry, from lunik",
                                  r"^args: name=registry$")
        r = ctx.lunik("run", ref, "--", "extra=1")
        r.expect_status(0).expect(r"^args: .*extra=1")
