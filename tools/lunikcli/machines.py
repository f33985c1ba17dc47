"""machines -- what each --machine name means to QEMU: the -M value and
the device models of its bus, once for every command that starts a
guest or describes one (run, test, and engines' domains).

  microvm  QEMU's microvm: no PCI, no firmware; virtio-mmio devices. The
           fastest boot, the default.
  q35      a PC with PCI Express (ICH9), booted through SeaBIOS: virtio-pci
           devices (libvirt's and KubeVirt's default x86 machine)
  pc       the older i440FX PC, booted through SeaBIOS: virtio-pci devices

The same image boots on each, through QEMU's PVH entry (-kernel).
"""

import collections

from .errors import Error

Machine = collections.namedtuple("Machine", [
    "name",      # --machine's value
    "qemu",      # -M's value
    "bus",       # "virtio-mmio" or "pci": where the devices sit
    "net",       # the QEMU device model of the network device
    "blk",       # ... of a block device
    "rng",       # ... of the entropy device
    "globals",   # QEMU options that every run on it needs
])

MACHINES = {
    "microvm": Machine(
        "microvm", "microvm,x-option-roms=off", "virtio-mmio",
        "virtio-net-device", "virtio-blk-device", "virtio-rng-device",
        # QEMU 7.2's virtio-mmio offers the legacy interface unless told
        # not to; the kernel drives only the modern one (virtio 1.2, 4.2).
        ("-global", "virtio-mmio.force-legacy=false")),
    # No SATA controller nor SMBus: q35 adds both by default, and the
    # kernel would list them as devices it leaves alone.
    "q35": Machine(
        "q35", "q35,sata=off,smbus=off", "pci",
        "virtio-net-pci", "virtio-blk-pci", "virtio-rng-pci", ()),
    "pc": Machine(
        "pc", "pc", "pci",
        "virtio-net-pci", "virtio-blk-pci", "virtio-rng-pci", ()),
}
DEFAULT = "microvm"


def machine(name=None):
    """The Machine for --machine (name) (None: the default); raises Error
    for a name not in MACHINES."""
    name = name or DEFAULT
    if name not in MACHINES:
        raise Error("--machine %s: expected %s" % (
            name, ", ".join(sorted(MACHINES))))
    return MACHINES[name]
