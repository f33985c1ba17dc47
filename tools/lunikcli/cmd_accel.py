"""lunik accel: says which accelerator `lunik run` picks here, and why
(exit 0: KVM)."""

from . import kvm

HELP = "say whether KVM or software emulation runs images here (exit 0: KVM)"


def register(sub):
    return sub.add_parser("accel", help=HELP, description=HELP)


def run(a):
    cpu, why = kvm.state()
    if cpu:
        print("kvm -cpu %s" % cpu)
        return 0
    print("tcg (%s)" % why)
    return 1
