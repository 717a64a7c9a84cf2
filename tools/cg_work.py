# Workloads for instruction counting (tools/bench_callgrind.py), run by the
# MicroPython unix port under valgrind's callgrind.  Each mode does its
# set-up, then its work N times (N = 0: the set-up alone, the baseline
# that bench_callgrind subtracts):
#   esp SIZE N        N packets of SIZE bytes, encapsulated and decapsulated
#                     (aes128-sha256, the mpy backend)
#   handshake RECORDING N
#                     the IKE_SA_INIT and IKE_AUTH of a recorded strongSwan
#                     exchange (host_tests/vectors/exchanges/), replayed N
#                     times: our side's whole CPU work, DH included, with no
#                     network (the same seed gives the same requests)
import sys

HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
sys.path.append(HERE)
sys.path.append(HERE + "/../host_tests/core")


def esp(size, n):
    import bench_esp
    from ikev2 import crypto

    a, b = bench_esp._pair(crypto.backend(), False)
    inner = bench_esp._inner(size)
    for _ in range(n):
        b.decap(a.encap(inner))


def handshake(name, n):
    from harness import vectors, h, Rng
    from ikev2 import crypto, ip as IP
    from ikev2.config import Config
    from ikev2.session import Session, ESTABLISHED

    rec = vectors("exchanges/" + name)
    cfg = Config(rec["config"])
    log = [(d, p, h(x)) for d, p, x in rec["log"]]
    for _ in range(n):
        rng = Rng(rec["seed"].encode())
        s = Session(cfg, crypto.backend(), rng, IP.aton(cfg.gateway), None)
        rng(2)  # as the recording's client drew its ICMP identifier
        s.connect(1000)
        now = 1000
        for d, port, data in log:
            if d == "in":
                now += 5
                s.receive(data, port, now)
                if s.state == ESTABLISHED:
                    break
        if s.state != ESTABLISHED:
            raise SystemExit("cg_work: the replay did not establish")


def main():
    mode = sys.argv[1]
    if mode == "esp":
        esp(int(sys.argv[2]), int(sys.argv[3]))
    elif mode == "handshake":
        handshake(sys.argv[2], int(sys.argv[3]))
    else:
        raise SystemExit("cg_work: unknown mode %r" % mode)


main()
