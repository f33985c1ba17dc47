"""suite_kv.py -- the kv store against real power cuts: a guest writes
numbered records (tests/system/apps/kvcrash) and prints each
acknowledgement; the test SIGKILLs QEMU at a random moment, boots again on
the same disk file, and checks that every acknowledged record is there and
the store opens cleanly. KV_KILLS sets the number of kills (default 50;
`make crash` runs 500).
"""

import os
import random
import re
import time

from harness import BUILD, LUNIK, ROOT, Failure, Live, build, test

KILLS = int(os.environ.get("KV_KILLS", "50"))
BATCH = 5  # records in flight at once at most (a batch)


def last_number(lines, pattern):
    n = None
    for line in lines:
        m = re.match(pattern, line)
        if m:
            n = int(m.group(1))
    return n


@test
def test_kv_survives_kills(ctx):
    image = build("kvcrash")
    disk = os.path.join(BUILD, "kvcrash-%s.img" % ctx.accel)
    if os.path.exists(disk):
        os.unlink(disk)
    seed = int(os.environ.get("KV_SEED") or time.time_ns() % 10**9)
    print("     kv crash seed %d [%s] (KV_SEED=%d replays it)"
          % (seed, ctx.accel, seed), flush=True)
    rng = random.Random(seed)
    argv = [LUNIK, "run", image, "--" + ctx.accel, "--no-rng", "--net", "none",
            "--disk", disk + ":64M", "--timeout", "120"]
    acked, mid_compaction, kills = 0, 0, 0
    history = []  # (kill, found, target, acked), for failure messages
    for k in range(KILLS):
        guest = Live(argv + ["--", "kvcrash=write", "compact=%d" % rng.choice((13, 29, 97))])
        try:
            guest.wait_for(r"^found \d+", 90)
            r = guest.result()
            found = last_number(r.out.splitlines(), r"^found (\d+)")
            if found < acked or found > acked + BATCH:
                r.fail("kill %d: acknowledged up to %d, found %d after reboot "
                       "(earlier kills: found, target, acked: %s; KV_SEED=%d)"
                       % (k, acked, found, history[-5:], seed))
            # a random moment: after some acknowledgements, plus a little
            target = found + rng.randint(1, 40)
            guest.wait_for(r"^ack %d$" % target, 90,
                           "kill %d: found %d, waiting for ack %d" % (k, found, target))
            time.sleep(rng.random() * 0.02)
        finally:
            guest.kill()
        # whole lines only: a kill can cut "ack 1787" short to "ack 1"
        lines = guest.result().out.split("\n")[:-1]
        acked = last_number(lines, r"^ack (\d+)\r?$") or acked
        history.append((k, found, target, acked))
        if lines and lines[-1].startswith("compacted"):
            mid_compaction += 1
        kills += 1
    final = Live(argv + ["--", "kvcrash=verify"])
    r = final.finish(120)
    m = re.search(r"^verify ok last=(\d+)$", r.out, re.M)
    if r.status != 0 or not m:
        r.fail("the store did not verify after %d kills (KV_SEED=%d)"
               % (kills, seed))
    last = int(m.group(1))
    if not acked <= last <= acked + BATCH:
        r.fail("acknowledged up to %d, verify found %d (KV_SEED=%d)"
               % (acked, last, seed))
