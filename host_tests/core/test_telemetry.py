# Store-and-forward telemetry against a fake tunnel: numbering, the
# bounded buffer (oldest dropped and counted), in-order flush, and
# reconnection with exponential backoff, acknowledgements and repeats.
from harness import raises
from ikev2.errors import ProtocolError
from ikev2.session import IDLE, CONNECTING, ESTABLISHED, CLOSED
from ikev2.telemetry import Telemetry


class FakeSession:
    def __init__(self):
        self.state = IDLE

    def connect(self, now):
        self.state = CONNECTING


class FakeClient:
    def __init__(self):
        self.t = 0
        self.session = FakeSession()
        self.wire = []
        self.reconnects_at = []
        self.fail_connects = 0
        self.rxq = []          # what the tunnel delivered to us
        self.auto_ack = True   # the collector answers every datagram
        self.lose = 0          # the next n datagrams are lost

    def _now(self):
        return self.t

    def is_up(self):
        return self.session.state == ESTABLISHED

    def sendto(self, data, dest):
        self.wire.append(data)
        if self.lose:
            self.lose -= 1
        elif self.auto_ack:
            self.rxq.append((b"ACK " + data[:64], dest))
        return True

    def reconnect(self):
        self.reconnects_at.append(self.t)
        self.session = FakeSession()
        self.session.connect(self.t)

    def step(self, ms):
        self.t += ms
        if self.session.state == CONNECTING:
            if self.fail_connects:
                self.fail_connects -= 1
                self.session.state = CLOSED
                raise ProtocolError("no response from the gateway")
            self.session.state = ESTABLISHED


def test_numbering_bound_and_in_order_flush():
    c = FakeClient()
    t = Telemetry(c, ("198.51.100.2", 5140), capacity=3)
    for i in range(5):  # the tunnel is down: 5 records, room for 3
        assert t.send(b"r%d" % i) == i + 1
    assert t.stats()["dropped"] == 2 and t.stats()["queued"] == 3 and c.wire == []
    t.service(100)  # comes up, flushes in order
    assert c.wire == [b"seq=3 r2", b"seq=4 r3", b"seq=5 r4"]
    t.send(b"now")
    assert c.wire[-1] == b"seq=6 now" and t.stats()["sent"] == 4
    raises(ValueError, Telemetry, c, ("x", 1), 0)


def test_reconnect_with_backoff_and_nothing_lost():
    c = FakeClient()
    t = Telemetry(c, ("198.51.100.2", 5140), capacity=10, backoff_ms=1000)
    t.service(100)
    t.send(b"a")
    c.session.state = CLOSED  # the gateway deleted the IKE SA
    c.fail_connects = 2       # and the next two attempts fail
    t.send(b"b")
    t.send(b"c")
    t.service(10000)
    # at once after the delete, then after 1 s, then 2 s (backoff doubles)
    gaps = [b - a for a, b in zip(c.reconnects_at, c.reconnects_at[1:])]
    assert c.reconnects_at[0] == 100
    assert len(c.reconnects_at) == 3 and 1000 <= gaps[0] < 1400 and 2000 <= gaps[1] < 2400
    assert c.wire == [b"seq=1 a", b"seq=2 b", b"seq=3 c"]
    st = t.stats()
    assert st["dropped"] == 0 and st["reconnects"] == 3
    assert "no response" in st["last_error"]


def test_unacknowledged_records_are_sent_again():
    c = FakeClient()
    t = Telemetry(c, ("198.51.100.2", 5140), capacity=10, ack_ms=1000, window=2)
    t.service(100)
    c.auto_ack = False
    for r in (b"a", b"b", b"c"):
        t.send(r)
    # a window of 2: the third waits for room
    assert c.wire == [b"seq=1 a", b"seq=2 b"]
    # the first record died in the tunnel (or its ACK did); 2 is answered
    c.rxq.append((b"ACK seq=2 b", None))
    c.auto_ack = True
    t.service(200)  # 3 goes out, 1 is still unanswered
    assert c.wire[2:] == [b"seq=3 c"] and t.pending() == 1
    t.service(1000)  # after ack_ms, 1 is sent again, and acknowledged
    assert c.wire[3:] == [b"seq=1 a"] and t.pending() == 0
    st = t.stats()
    assert st["acked"] == 3 and st["resent"] == 1 and st["sent"] == 4
    # garbage and unknown sequence numbers in the answers are ignored
    c.rxq += [(b"hello", None), (b"ACK seq=x", None), (b"ACK seq=99 z", None)]
    t.service(100)
    assert t.stats()["acked"] == 3


def test_without_acknowledgements_records_are_sent_once():
    c = FakeClient()
    c.auto_ack = False
    t = Telemetry(c, ("198.51.100.2", 5140), ack=False, ack_ms=100)
    t.service(100)
    t.send(b"a")
    t.service(1000)
    assert c.wire == [b"seq=1 a"] and t.pending() == 0
