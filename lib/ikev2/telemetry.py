# Store-and-forward telemetry: readings are never lost silently.
#   t = Telemetry(client, ("198.51.100.2", 5140), capacity=64)
#   t.send(b"temp=21.5")     # numbered "seq=N temp=21.5", queued
#   t.service(1000)          # run the tunnel: connect, reconnect, flush
# Each record carries a sequence number, so the collector can prove there
# was no loss and no duplicate.  While the tunnel is down, records wait in
# a bounded buffer; when it is full the oldest is dropped and counted
# (stats()["dropped"]).  The buffer is flushed in order once the tunnel is
# back.  A tunnel that goes down (the gateway deleted it, or it was
# declared dead) is re-established with exponential backoff.
from .errors import IKEError
from .session import IDLE, CLOSED


class Telemetry:
    def __init__(self, client, dest, capacity=64, backoff_ms=1000,
                 backoff_max_ms=60000):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.c = client
        self.dest = dest
        self.capacity = capacity
        self.buf = []
        self.seq = 0
        self.sent = 0
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
        self.buf.append(b"seq=%d " % self.seq + data)
        if len(self.buf) > self.capacity:
            self.buf.pop(0)
            self.dropped += 1
        self._flush()
        return self.seq

    def _flush(self):
        while self.buf and self.c.is_up():
            if not self.c.sendto(self.buf[0], self.dest):
                return
            self.buf.pop(0)
            self.sent += 1

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
        return {"records": self.seq, "sent": self.sent, "queued": len(self.buf),
                "dropped": self.dropped, "reconnects": self.reconnects,
                "last_error": self.last_error}
