"""Where ``tools.verify`` and ``tools.publish`` take a relay token from, and keeping it out of what they print.

The same order everywhere: ``--token JWT``, then ``--token-file FILE`` (the whole file, surrounding whitespace
stripped), then the ``QUICSTACK_TOKEN`` variable; ``--token`` together with ``--token-file`` is refused. A token on a
command line is visible to every local user in the process list (``ps``, ``/proc/PID/cmdline``), so the file or the
variable is the better way. A token is never sent without checking the server's certificate, and never printed:
every error line and result passes through ``redact`` first.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Mapping, Optional
from urllib.parse import quote

from .inputs import UsageError

ENV = "QUICSTACK_TOKEN"
VISIBLE = ("--token on a command line is visible to other local users in the process list: prefer --token-file "
           f"FILE or the {ENV} variable")
INSECURE = ("--insecure with a token ({source}): a token sent without checking the server's certificate can be taken "
            "by whoever answers; drop --insecure (trust the server with --ca FILE) or send no token")
HIDDEN = "***"
# A JWT's header is base64url JSON, so it starts with "eyJ" ('{"'): anything shaped like one is hidden too, even
# where its value is not known (an argument argparse did not recognise).
_JWT_SHAPED = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*)?")
_resolved: set[str] = set()
"""Every token ``resolve`` returned in this process: ``redact`` hides them from any later message."""


def add_arguments(group, use: str) -> None:
    """``--token`` and ``--token-file`` on ``group`` (a parser or an argument group); ``use`` says what for."""
    group.add_argument("--token", metavar="JWT", help=f"relay token: {use} (never printed). {VISIBLE}")
    group.add_argument("--token-file", metavar="FILE",
                       help="read the relay token from FILE (the whole file, surrounding whitespace stripped); "
                       f"without --token or --token-file, the {ENV} variable is read")


def resolve(flag: Optional[str], file: Optional[str], environ: Mapping[str, str] = os.environ
            ) -> tuple[Optional[str], Optional[str]]:
    """(the token, where it came from: ``--token``, ``--token-file FILE`` or the variable), or (None, None)."""
    if flag is not None and file is not None:
        raise UsageError("give either --token or --token-file, not both")
    if flag is not None:
        if not flag.strip():
            raise UsageError("--token is empty")
        token, source = flag.strip(), "--token"
    elif file is not None:
        token, source = _read(file), f"--token-file {file}"
    else:
        token, source = environ.get(ENV, "").strip(), ENV
        if not token:
            return None, None
    _resolved.add(token)
    return token, source


def _read(file: str) -> str:
    """The file's token; an error names the file and why, never what it holds."""
    try:
        text = Path(file).read_text()
    except OSError as exc:
        raise UsageError(f"--token-file {file}: cannot read it ({exc.strerror or type(exc).__name__})") from None
    except UnicodeDecodeError:
        raise UsageError(f"--token-file {file}: not a text file (its contents are not shown)") from None
    token = text.strip()
    if not token:
        raise UsageError(f"--token-file {file} is empty")
    if len(token.split()) > 1:
        raise UsageError(f"--token-file {file} holds more than one word; a token is one (its contents are not shown)")
    return token


def refuse_insecure(insecure: bool, token: Optional[str], source: Optional[str]) -> None:
    """Certificates not checked and a token to send: refused, whichever way the token came."""
    if insecure and token:
        raise UsageError(INSECURE.format(source=source))


def redact(text: str, *tokens: Optional[str]) -> str:
    """``text`` with every given token (as it is and URL-encoded) and anything shaped like a JWT replaced."""
    for token in sorted({*tokens, *_resolved} - {None, ""}, key=len, reverse=True):
        if token:
            text = text.replace(token, HIDDEN).replace(quote(token, safe=""), HIDDEN)
    return _JWT_SHAPED.sub(HIDDEN, text)
