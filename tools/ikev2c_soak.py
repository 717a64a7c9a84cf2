# The `soak` command of ikev2c_run.py, in its own module so that the other
# commands do not carry its code (RAM on MicroPython).  Same subset rules.
# The runner passes itself as `r` (importing ikev2c_run here would load a
# second copy of it: it runs as __main__).
try:
    import gc
except ImportError:
    gc = None


def _live(_alloc):
    # the heap in use after a full collection (MicroPython), in bytes
    gc.collect()
    return _alloc()


class _Totals:
    # rekey counters summed over the sessions a reconnect replaces
    def __init__(self):
        self.done = [0, 0, 0, 0, 0]  # Child theirs, ours, IKE, liveness, IKE ours
        self.s = None

    def of(self, s):
        if s is not self.s:
            if self.s is not None:
                o = self.s
                for i, v in enumerate((o.rekeys, o.our_rekeys, o.ike_rekeys,
                                       o.liveness_checks, o.our_ike_rekeys)):
                    self.done[i] += v
            self.s = s
        now = (s.rekeys, s.our_rekeys, s.ike_rekeys, s.liveness_checks,
               s.our_ike_rekeys)
        return [self.done[i] + now[i] for i in range(5)]


def cmd_soak(c, args, r):
    # telemetry for SECONDS, one reading every INTERVAL ms, through the
    # store-and-forward buffer (acknowledged by the collector) while the
    # gateway and we rekey; then the buffer is drained.  Reports the rekeys,
    # the records and, on MicroPython, the heap after every rekey.
    from ikev2.telemetry import Telemetry

    _alloc, log = r._alloc, r.log

    host, port = r._hostport(args[0])
    secs = int(args[1])
    every = int(args[2]) if len(args) > 2 else 500
    w = r.HeapWatch(c)
    # a repeat after 2 s without ACK: on a lossy path each record may need
    # several tries, and the drain below waits up to 60 s for them
    t = Telemetry(c, (host, port), capacity=256, backoff_ms=500,
                  backoff_max_ms=8000, ack_ms=2000)
    tot = _Totals()
    t0 = c._now()
    end = t0 + secs * 1000
    nxt = t0
    report = t0 + 10000
    last = None
    heap = []  # live heap after each rekey
    up = None  # and once the tunnel is first up
    held = []  # old Child SAs (units) and IKE SAs (tens) held at each rekey
    while True:
        now = c._now()
        if now >= end and (not t.pending() or now >= end + 60000):
            break
        if now < end and now >= nxt:
            t.send(b"reading %d" % ((now - t0) // 1000))
            nxt += every
        t.service(50)
        k = tot.of(c.session)
        if up is None and c.is_up() and _alloc:
            up = _live(_alloc)
        if k[:3] != last:
            last = k[:3]
            if _alloc and (k[0] or k[1] or k[2]):
                heap.append(_live(_alloc))
            s = c.session
            held.append(len(s.old_children) + (s.next_child is not None)
                        + 10 * len(s.retiring))
        if now >= report:
            report += 10000
            log("soak: %d s, %d records, %d pending, child rekeys %d by the "
                "gateway / %d by us, IKE rekeys %d, reconnects %d%s"
                % ((now - t0) // 1000, t.seq, t.pending(), k[0], k[1], k[2],
                   t.reconnects, ", heap %d B live" % heap[-1] if heap else ""))
    k = tot.of(c.session)
    d = t.stats()
    d.update({"seconds": secs, "child_rekeys_gateway": k[0],
              "child_rekeys_ours": k[1], "ike_rekeys_gateway": k[2] - k[4],
              "ike_rekeys_ours": k[4],
              "liveness_checks": k[3], "heap_peak": w.peak,
              "heap_up": up, "heap_after_rekeys": heap,
              "held_after_rekeys": held})
    r.emit(d)
    return r.EXIT_OK if not t.pending() and not t.dropped else r.EXIT_FAIL
