# One error hierarchy for the whole library.
#
#   IKEError
#     ProtocolError          the peer broke the protocol, or refused us
#       NotifyError          an error Notify (carries the notify number)
#       AuthenticationFailed the peer's AUTH did not verify, or ours was refused
#     DecodeError            bytes from the wire that do not parse
#       IntegrityError       ICV / AEAD tag mismatch on an Encrypted payload
#       UnsupportedCriticalPayload  RFC 7296 2.5: answer with notify 1
#     CryptoError            bad key, bad DH public value, ...
#     ConfigError            bad local configuration
#
# The ESP hot path does not raise: it returns None and counts (see esp.py).


class IKEError(Exception):
    pass


class ProtocolError(IKEError):
    pass


class NotifyError(ProtocolError):
    # notify: the RFC 7296 Notify Message Type; data: its notification data.
    def __init__(self, notify, msg=None, data=b""):
        if msg is None:
            from .const import notify_name

            msg = notify_name(notify)
        super().__init__(msg)
        self.notify = notify
        self.data = data


class AuthenticationFailed(ProtocolError):
    pass


class DecodeError(IKEError):
    pass


class IntegrityError(DecodeError):
    pass


class UnsupportedCriticalPayload(DecodeError):
    # RFC 7296 2.5: the whole message is rejected and the sender is told
    # with UNSUPPORTED_CRITICAL_PAYLOAD (1) whose data is the payload type.
    notify = 1

    def __init__(self, payload_type):
        super().__init__("unsupported critical payload type %d" % payload_type)
        self.payload_type = payload_type
        self.data = bytes((payload_type,))


class CryptoError(IKEError):
    pass


class ConfigError(IKEError):
    pass
