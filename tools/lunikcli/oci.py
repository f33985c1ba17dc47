"""oci -- moving lunik images through OCI registries (`lunik push`, `lunik
pull`, `lunik run REF`), by the OCI distribution API.

An image is stored as an OCI image manifest (image-spec manifest.md,
used for an artifact as its "guidance for artifacts" says) with:
  config  CONFIG_TYPE: the image's boot defaults, a JSON object
          {"args": [key=value ...], "mem": "128M", "machine": "microvm",
          "lunik": version}, written with sorted keys (same inputs, same
          digest);
  layers  one, LAYER_TYPE: the image file itself, byte for byte,
          annotated with its file name (org.opencontainers.image.title).
Blobs go up with a POST to /v2/NAME/blobs/uploads/ and one PUT of the
whole blob with its digest (a monolithic upload; a blob the registry has
already is skipped after a HEAD); the manifest with a PUT to
/v2/NAME/manifests/TAG. Pulling reads the manifest, then the blobs, and
checks every digest and size.

A reference is HOST[:PORT]/NAME[:TAG|@sha256:DIGEST] (TAG defaults to
latest). Loopback hosts (localhost, 127.x, [::1]) are spoken to over
plain HTTP, every other over HTTPS. A registry that asks for HTTP Basic
authentication (RFC 7617; docker-registry's htpasswd) gets the user and
password of the environment variables LUNIK_REGISTRY_USER and
LUNIK_REGISTRY_PASSWORD; token authentication (a Bearer challenge) is
not supported yet.
"""

import base64
import hashlib
import json
import os
import re
import urllib.parse

from . import version
from .errors import Error

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_TYPE = "application/vnd.lunik.config.v1+json"
LAYER_TYPE = "application/vnd.lunik.image.v1.elf"
TIMEOUT = 60

COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
REF = re.compile(
    r"^(?P<host>(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9a-fA-F:]+\])"
    r"(?::\d{1,5})?)/(?P<name>%s(?:/%s)*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
    % (COMPONENT, COMPONENT))


class Ref:
    def __init__(self, text):
        m = REF.match(text)
        if not m:
            raise Error("%s: not an image reference: expected "
                        "HOST[:PORT]/NAME[:TAG|@sha256:DIGEST], e.g. "
                        "127.0.0.1:5000/api:1" % text)
        self.text, self.host, self.name = text, m.group("host"), m.group("name")
        self.digest = m.group("digest")
        self.tag = m.group("tag") or ("latest" if not self.digest else None)

    def reference(self):
        """The tag or digest the manifest is asked for by."""
        return self.digest or self.tag

    def loopback(self):
        h = self.host.rsplit(":", 1)[0] if not self.host.startswith("[") \
            else self.host[1:self.host.index("]")]
        return h == "localhost" or h.startswith("127.") or h == "::1"


def looks_like_ref(text):
    """Whether text reads as a reference (a HOST with a dot, a port or
    localhost before the first /), not as a path."""
    m = REF.match(text)
    if not m:
        return False
    host = m.group("host")
    return "." in host or ":" in host or host == "localhost"


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def config_blob(args, mem, machine):
    """The config of an image: its boot defaults."""
    return json.dumps({"args": list(args), "mem": mem, "machine": machine,
                       "lunik": version.VERSION}, sort_keys=True,
                      separators=(",", ":")).encode()


def manifest_blob(config, image, title):
    m = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": CONFIG_TYPE, "digest": sha256(config),
                   "size": len(config)},
        "layers": [{"mediaType": LAYER_TYPE, "digest": sha256(image),
                    "size": len(image),
                    "annotations": {"org.opencontainers.image.title": title}}],
    }
    return json.dumps(m, sort_keys=True, separators=(",", ":")).encode()


class Registry:
    """The registry of a Ref, over HTTP(S)."""

    def __init__(self, ref):
        self.ref = ref
        self.scheme = "http" if ref.loopback() else "https"
        self.auth = None  # the Authorization header, once asked for

    def authorize(self, r):
        """After a 401: sets the credentials the challenge asks for, or
        raises Error saying why there are none to give."""
        challenge = r.getheader("WWW-Authenticate") or ""
        if not challenge.lower().startswith("basic"):
            raise Error("%s: the registry asks for %s authentication, which "
                        "lunik does not support yet"
                        % (self.ref.text, challenge.split(" ")[0] or "an"))
        user = os.environ.get("LUNIK_REGISTRY_USER")
        password = os.environ.get("LUNIK_REGISTRY_PASSWORD")
        if self.auth or user is None or password is None:
            raise Error("%s: the registry %s credentials: set "
                        "LUNIK_REGISTRY_USER and LUNIK_REGISTRY_PASSWORD"
                        % (self.ref.text, "refused the" if self.auth
                           else "asks for"))
        self.auth = "Basic " + base64.b64encode(
            ("%s:%s" % (user, password)).encode()).decode()

    def request(self, method, url, body=None, headers=None, redirects=3):
        """(status, headers, body) of one request to url (a path on the
        registry, or an absolute URL it gave); raises Error when the
        registry can't be reached."""
        import http.client  # with ssl, slow to import: only when used
        import socket
        import ssl
        u = urllib.parse.urlsplit(urllib.parse.urljoin(
            "%s://%s/" % (self.scheme, self.ref.host), url))
        if u.scheme == "https":
            conn = http.client.HTTPSConnection(
                u.netloc, timeout=TIMEOUT, context=ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(u.netloc, timeout=TIMEOUT)
        path = u.path + ("?" + u.query if u.query else "")
        sent = dict(headers or {})
        if self.auth and u.netloc == self.ref.host:  # not to a redirect's
            sent["Authorization"] = self.auth
        try:
            conn.request(method, path, body=body, headers=sent)
            r = conn.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException) as e:
            why = getattr(e, "strerror", None) or str(e) or type(e).__name__
            if isinstance(e, socket.timeout):
                why = "no answer in %ds" % TIMEOUT
            raise Error("%s: cannot reach the registry %s: %s"
                        % (self.ref.text, u.netloc, why))
        finally:
            conn.close()
        if r.status in (301, 302, 303, 307, 308) and redirects and \
                r.getheader("Location"):
            loc = urllib.parse.urljoin("%s://%s%s" % (u.scheme, u.netloc, path),
                                       r.getheader("Location"))
            return self.request(method, loc, body, headers, redirects - 1)
        if r.status == 401 and u.netloc == self.ref.host:
            self.authorize(r)
            return self.request(method, url, body, headers, redirects)
        return r.status, r, data

    def refused(self, what, status, data):
        """The Error for an answer that is not what we asked for."""
        detail = ""
        try:
            errs = json.loads(data).get("errors") or []
            detail = "; ".join("%s: %s" % (e.get("code"), e.get("message"))
                               for e in errs)
        except (ValueError, AttributeError):
            pass
        return Error("%s: the registry refused %s: HTTP %d%s"
                     % (self.ref.text, what, status,
                        " (%s)" % detail if detail else ""))

    def blob_path(self, digest):
        return "/v2/%s/blobs/%s" % (self.ref.name, digest)

    def push_blob(self, data):
        digest = sha256(data)
        status, _, _ = self.request("HEAD", self.blob_path(digest))
        if status == 200:
            return digest
        status, r, body = self.request(
            "POST", "/v2/%s/blobs/uploads/" % self.ref.name,
            headers={"Content-Length": "0"})
        if status != 202 or not r.getheader("Location"):
            raise self.refused("an upload", status, body)
        loc = r.getheader("Location")
        loc += ("&" if "?" in loc else "?") + "digest=" + \
            urllib.parse.quote(digest)
        status, _, body = self.request(
            "PUT", loc, data, {"Content-Type": "application/octet-stream",
                               "Content-Length": str(len(data))})
        if status != 201:
            raise self.refused("a blob", status, body)
        return digest

    def push(self, image, config, title):
        """Pushes the image bytes with their config; returns the
        manifest's digest."""
        self.push_blob(config)
        self.push_blob(image)
        manifest = manifest_blob(config, image, title)
        status, r, body = self.request(
            "PUT", "/v2/%s/manifests/%s" % (self.ref.name, self.ref.reference()),
            manifest, {"Content-Type": MANIFEST_TYPE})
        if status != 201:
            raise self.refused("the manifest", status, body)
        digest = sha256(manifest)
        said = r.getheader("Docker-Content-Digest")
        if said and said != digest:
            raise Error("%s: the registry stored the manifest as %s, not %s"
                        % (self.ref.text, said, digest))
        return digest

    def get_blob(self, desc):
        status, _, data = self.request("GET", self.blob_path(desc["digest"]))
        if status != 200:
            raise self.refused("blob %s" % desc["digest"], status, data)
        if sha256(data) != desc["digest"] or len(data) != desc["size"]:
            raise Error("%s: blob %s arrived damaged (%d bytes, %s)"
                        % (self.ref.text, desc["digest"], len(data),
                           sha256(data)))
        return data

    def pull(self):
        """(image bytes, config dict, manifest digest)."""
        status, _, data = self.request(
            "GET", "/v2/%s/manifests/%s" % (self.ref.name, self.ref.reference()),
            headers={"Accept": MANIFEST_TYPE})
        if status == 404:
            raise Error("%s: no such image in the registry %s"
                        % (self.ref.text, self.ref.host))
        if status != 200:
            raise self.refused("the manifest", status, data)
        digest = sha256(data)
        if self.ref.digest and digest != self.ref.digest:
            raise Error("%s: the registry answered manifest %s"
                        % (self.ref.text, digest))
        try:
            m = json.loads(data)
            config, layers = m["config"], m["layers"]
        except (ValueError, KeyError, TypeError):
            raise Error("%s: not an OCI image manifest" % self.ref.text)
        if config.get("mediaType") != CONFIG_TYPE or len(layers) != 1 or \
                layers[0].get("mediaType") != LAYER_TYPE:
            raise Error("%s: not a lunik image (its config is %s)"
                        % (self.ref.text, config.get("mediaType")))
        try:
            defaults = json.loads(self.get_blob(config))
        except ValueError:
            raise Error("%s: its config is not JSON" % self.ref.text)
        return self.get_blob(layers[0]), defaults, digest
