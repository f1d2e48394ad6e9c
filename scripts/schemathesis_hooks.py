"""Loaded by scripts/schemathesis.sh (SCHEMATHESIS_HOOKS).

Works around a Schemathesis 4.32 bug: while it looks for links in answers, a string such as
"http://[x" (a URL Python's urlsplit refuses, e.g. an avatar URL or a message's text) ends the
whole run with an internal error. Such a string is simply not a link; no check is changed.
"""

from schemathesis.engine import observations

_same_origin_path = observations._same_origin_path


def _tolerant_same_origin_path(value, origin):
    try:
        return _same_origin_path(value, origin)
    except ValueError:
        return None


observations._same_origin_path = _tolerant_same_origin_path
