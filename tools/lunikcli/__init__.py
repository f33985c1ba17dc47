"""lunikcli -- the `lunik` command as a package: one module per job.

  main.py      argument parsing and dispatch (the entry point tools/lunik calls)
  options.py   the option groups commands share (run, device, bundle options)
  paths.py     where the runtime, the stdlib and the caches are
  errors.py    the one error type commands raise, and how it is shown
  image.py     packing an app and linking an image
  bundle.py    which pure-Lua modules from --lua-path folders an image needs
  rom.py       which files of a folder go into an image; reading an image's ROM
  devices.py   -p, --net, --disk and --no-rng as QEMU device options
  machines.py  what --machine microvm|q35|pc means to QEMU (-M, device models)
  qemu.py      the QEMU command line and running a guest
  console.py   a guest's console copied to stdout, watched for readiness
  launch.py    a run's host side: devices, the -p ports, --ready-file
  proxy.py     the -p TCP ports held by lunik, passed on to the ready guest
  guest.py     one guest among several (lunik watch)
  testreport.py  the spec runner's events as TAP, JUnit, the hung test
  buildreport.py lunik build --report
  oci.py       images through OCI registries (push, pull, run REF)
  version.py   lunik --version
  kvm.py       whether KVM runs guests natively here
  scaffold.py  `lunik new`'s app folders, from templates/
  cmd_*.py     one module per command: its options (register) and its work (run)
"""
