"""errors -- the one error type of the lunik command.

Commands raise Error with a message for the user; main() prints it as one
line "lunik: MESSAGE" and exits with Error.status (2 for bad input by
default, as argparse does for bad options; 1 when a tool we ran failed).
"""

import sys

STATUS_USAGE = 2
STATUS_FAILED = 1


class Error(Exception):
    def __init__(self, msg, status=STATUS_USAGE):
        super().__init__(msg)
        self.status = status


def warn(msg):
    print("lunik: warning: " + msg, file=sys.stderr)


def note(msg):
    print("lunik: " + msg, file=sys.stderr)
