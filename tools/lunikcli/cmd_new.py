"""lunik new NAME [--http]: scaffolds an app folder (scaffold.py)."""

from . import scaffold

HELP = "scaffold an app folder"


def register(sub):
    p = sub.add_parser("new", help=HELP, description=HELP)
    p.add_argument("name")
    p.add_argument("--http", action="store_true",
                   help="an HTTP/JSON API instead of a script")
    return p


def run(a):
    name = a.name.rstrip("/") or a.name
    files = scaffold.create(name, "http" if a.http else "script")
    print("created %s: %s" % (name, ", ".join(files)))
    if a.http:
        print("  lunik run %s -p 8080:8080     serve it on 127.0.0.1:8080"
              % name)
    else:
        print("  lunik run %s     boot it" % name)
    print("  lunik test %s    run its specs" % name)
    return 0
