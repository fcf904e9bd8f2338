"""Mail delivery (a stage): ``smtp`` builds messages (pure) and sends them; ``listmail`` makes
the digest a list a reader can leave (List-Id, List-Unsubscribe, one-click, RFC 2369/2919/8058);
``requests`` reads unsubscribe requests that arrived by mail."""

from pipeline.deliver.listmail import MailingList, check_token, default_list_id
from pipeline.deliver.requests import UnsubscribeRequest, read_mailbox, unsubscribe_request
from pipeline.deliver.smtp import build_message, message_id, send_message, write_eml

__all__ = [
    "MailingList",
    "UnsubscribeRequest",
    "build_message",
    "check_token",
    "default_list_id",
    "message_id",
    "read_mailbox",
    "send_message",
    "unsubscribe_request",
    "write_eml",
]
