"""The spec's building blocks: the patterns its strings must match (and what each means, for
diagnostics), the address and name types, and the base model every part of the spec shares."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    IPvAnyAddress,
    IPvAnyNetwork,
    StringConstraints,
)
from pydantic.alias_generators import to_camel

API_VERSION = "lbgen.io/v1alpha1"

NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
QUANTITY_PATTERN = r"^([0-9]+(\.[0-9]+)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$"
IMAGE_PATTERN = (
    r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$"
)
# strings that reach a config or manifest are one token of a small alphabet: no whitespace, no
# quotes, no comment or block characters of any daemon's syntax (render/text.py refuses them too)
GIT_URL_PATTERN = r"^(https://|ssh://|git@)[A-Za-z0-9._~:/?@&+,=%-]{1,500}$"
NO_SPACE_PATTERN = r"^[A-Za-z0-9._/-]{1,255}$"
HTTP_PATH_PATTERN = r"^[A-Za-z0-9._~%/?=&+:@,-]{1,256}$"
REPO_PATH_PATTERN = r"^[A-Za-z0-9._-][A-Za-z0-9._/-]{0,254}$"
ZEBRA_SOFTWARE_PATTERN = r"^[a-z0-9.]{1,32}$"
ZEBRA_SOCKET_PATTERN = r"^(unix:/[A-Za-z0-9._/-]{1,200}|tcp:[0-9.]{7,15}:[0-9]{1,5})$"
# no '.' or '..' part: the path is read as root on the box (lbgen box-config)
BOX_FILE_PATTERN = r"^(/[A-Za-z0-9_][A-Za-z0-9._-]{0,127}){1,16}$"
DATA_KEY_PATTERN = r"^[-._a-zA-Z0-9]{1,253}$"
# what each pattern asks for, in words, for diagnostics
PATTERN_MEANING = {
    NAME_PATTERN: "a DNS label: lower-case letters, digits and '-', starting and ending with "
    "a letter or digit",
    QUANTITY_PATTERN: "a Kubernetes quantity such as 100m, 0.5 or 128Mi",
    IMAGE_PATTERN: "an image reference with a tag or digest, such as ghcr.io/org/lbgen:0.1.0",
    GIT_URL_PATTERN: "a git URL starting with https://, ssh:// or git@, without spaces or quotes",
    NO_SPACE_PATTERN: "a branch, tag or commit: letters, digits, '.', '_', '/' and '-'",
    HTTP_PATH_PATTERN: "an HTTP path of letters, digits and URL punctuation, with no space, "
    "quote, '#', '!', ';', '{' or '}' (keepalived reads those as syntax)",
    REPO_PATH_PATTERN: "a relative folder path: letters, digits, '.', '_', '/' and '-'",
    ZEBRA_SOFTWARE_PATTERN: "a zebra software name such as frr7.2",
    ZEBRA_SOCKET_PATTERN: "a zebra API URL: unix:/path or tcp:address:port",
    BOX_FILE_PATTERN: "an absolute file path whose parts are letters, digits, '.', '_' and '-', "
    "each starting with a letter, digit or '_' (no '.' or '..' part)",
    DATA_KEY_PATTERN: "a Secret data key: letters, digits, '-', '_' and '.'",
}


NOT_TEXT = "is not written as text"


def _written_as_text(value: Any) -> Any:
    """An address or network must be written as text: YAML's 167837953 or `true` would
    otherwise become 10.1.1.1/32 or 0.0.0.1/32."""
    if not isinstance(value, str):
        raise ValueError(NOT_TEXT)
    return value


Ipv4Net = Annotated[IPv4Network, BeforeValidator(_written_as_text)]
Ipv4Addr = Annotated[IPv4Address, BeforeValidator(_written_as_text)]
Ipv6Net = Annotated[IPv6Network, BeforeValidator(_written_as_text)]
Ipv6Addr = Annotated[IPv6Address, BeforeValidator(_written_as_text)]
# a VIP of either family: IPv4 inside `prefix`, IPv6 inside `prefix6`
AnyAddr = Annotated[IPvAnyAddress, BeforeValidator(_written_as_text)]
# a range in the family of the sessions
AnyNet = Annotated[IPvAnyNetwork, BeforeValidator(_written_as_text)]

# a DNS-1123 label: it names Kubernetes objects and output folders
Name = Annotated[str, StringConstraints(min_length=1, max_length=63, pattern=NAME_PATTERN)]
Asn = Annotated[int, Field(ge=1, le=4_294_967_295)]
Scheduler = Literal["rr", "wrr", "lc", "wlc", "sh", "mh"]


class Model(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        strict=False,
    )
