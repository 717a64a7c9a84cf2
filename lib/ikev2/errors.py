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


# Names of the error notifies (and the common statuses) for clear error
# messages, as ";number name" entries of one string: a dict would stay in
# RAM for the whole session.
_NOTIFY_NAMES = (
    ";1 UNSUPPORTED_CRITICAL_PAYLOAD;4 INVALID_IKE_SPI;5 INVALID_MAJOR_VERSION"
    ";7 INVALID_SYNTAX;9 INVALID_MESSAGE_ID;11 INVALID_SPI"
    ";14 NO_PROPOSAL_CHOSEN;17 INVALID_KE_PAYLOAD;24 AUTHENTICATION_FAILED"
    ";34 SINGLE_PAIR_REQUIRED;35 NO_ADDITIONAL_SAS;36 INTERNAL_ADDRESS_FAILURE"
    ";37 FAILED_CP_REQUIRED;38 TS_UNACCEPTABLE;39 INVALID_SELECTORS"
    ";43 TEMPORARY_FAILURE;44 CHILD_SA_NOT_FOUND;16384 INITIAL_CONTACT"
    ";16388 NAT_DETECTION_SOURCE_IP;16389 NAT_DETECTION_DESTINATION_IP"
    ";16390 COOKIE;16393 REKEY_SA;16430 IKEV2_FRAGMENTATION_SUPPORTED;")


def notify_name(n):
    # "AUTHENTICATION_FAILED" for 24; "NOTIFY_<n>" for numbers not listed
    k = ";%d " % n
    i = _NOTIFY_NAMES.find(k)
    if i < 0:
        return "NOTIFY_%d" % n
    i += len(k)
    return _NOTIFY_NAMES[i:_NOTIFY_NAMES.index(";", i)]


class IKEError(Exception):
    pass


class ProtocolError(IKEError):
    pass


class NotifyError(ProtocolError):
    # notify: the RFC 7296 Notify Message Type; data: its notification data.
    def __init__(self, notify, msg=None, data=b""):
        if msg is None:
            msg = notify_name(notify)
        super().__init__(msg)
        self.notify = notify
        self.data = data


class AuthenticationFailed(ProtocolError):
    pass


class CertificateError(AuthenticationFailed):
    # a certificate or private key that cannot be used: malformed, expired,
    # not issued by a trusted CA, not for the peer's identity (x509.py)
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
