# Store-and-forward telemetry: readings are never lost silently.
#   t = Telemetry(client, ("198.51.100.2", 5140), capacity=64)
#   t.send(b"temp=21.5")     # numbered "seq=N temp=21.5", queued
#   t.service(1000)          # run the tunnel: connect, reconnect, flush
# Each record carries a sequence number, so the collector can prove there
# was no loss and no duplicate.  A record stays in a bounded buffer until
# the collector acknowledges it (a datagram starting b"ACK seq=N "): one
# sent into a tunnel that died under it (the gateway restarted, the path
# lost it) is sent again after ack_ms, so delivery is at least once and the
# receiving side removes repeats by sequence number.  With ack=False records
# are forgotten once sent (a collector that never answers).  When the
# buffer is full the oldest record is dropped and counted
# (stats()["dropped"]).  The buffer is flushed in order once the tunnel is
# back.  A tunnel that goes down (deleted by the gateway, or declared dead)
# is re-established with exponential backoff.
from .errors import IKEError
from .session import IDLE, CLOSED


class Telemetry:
    def __init__(self, client, dest, capacity=64, backoff_ms=1000,
                 backoff_max_ms=60000, ack=True, ack_ms=3000, window=8):
        if capacity < 1 or window < 1:
            raise ValueError("capacity and window must be at least 1")
        self.c = client
        self.dest = dest
        self.capacity = capacity
        self.ack = ack
        self.ack_ms = ack_ms
        self.window = window      # records sent and not yet acknowledged
        self.buf = []             # [seq, record, last sent (ms) or None]
        self.seq = 0
        self.sent = 0             # transmissions, repeats included
        self.acked = 0
        self.resent = 0
        self.dropped = 0
        self.reconnects = 0
        self.last_error = None
        self.backoff0 = backoff_ms
        self.backoff_max = backoff_max_ms
        self.backoff = backoff_ms
        self.retry_at = 0

    def send(self, data):
        # -> the record's sequence number
        self.seq += 1
        self.buf.append([self.seq, b"seq=%d " % self.seq + data, None])
        if len(self.buf) > self.capacity:
            self.buf.pop(0)
            self.dropped += 1
        self._flush()
        return self.seq

    def _flush(self):
        c = self.c
        if not c.is_up():
            return
        self._acks()
        now = c._now()
        out = 0
        i = 0
        while i < len(self.buf) and out < self.window:
            r = self.buf[i]
            if r[2] is None or now - r[2] >= self.ack_ms:
                if not c.sendto(r[1], self.dest):
                    return
                if r[2] is not None:
                    self.resent += 1
                r[2] = now
                self.sent += 1
                if not self.ack:
                    self.buf.pop(i)
                    continue
            out += 1
            i += 1

    def _acks(self):
        # the collector's answers waiting in the client: b"ACK seq=N ..."
        q = self.c.rxq
        while q:
            data = q.pop(0)[0]
            if data[:8] != b"ACK seq=":
                continue
            end = data.find(b" ", 8)
            try:
                n = int(data[8:end if end > 0 else len(data)])
            except ValueError:
                continue
            for i in range(len(self.buf)):
                if self.buf[i][0] == n:
                    self.buf.pop(i)
                    self.acked += 1
                    break

    def pending(self):
        # records not yet acknowledged (or, with ack=False, not yet sent)
        return len(self.buf)

    def service(self, ms):
        c = self.c
        end = c._now() + ms
        while True:
            now = c._now()
            if now >= end:
                return
            s = c.session
            try:
                if s.state == IDLE:
                    s.connect(now)
                elif s.state == CLOSED and now >= self.retry_at:
                    self.reconnects += 1
                    c.reconnect()
                self._flush()
                c.step(min(200, end - now))
                if c.is_up():
                    self.backoff = self.backoff0
                    self._flush()
                elif c.session.state == CLOSED and self.retry_at <= now:
                    self._later(now)
            except IKEError as e:
                self.last_error = str(e)
                self._later(now)

    def _later(self, now):
        self.retry_at = now + self.backoff
        self.backoff = min(self.backoff * 2, self.backoff_max)

    def stats(self):
        return {"records": self.seq, "sent": self.sent, "acked": self.acked,
                "resent": self.resent, "queued": len(self.buf),
                "dropped": self.dropped, "reconnects": self.reconnects,
                "last_error": self.last_error}
