"""``python -m tools.publish --stack S``: a live test pattern on the relay, under the broadcast the watch page plays.

Raw pictures (``pattern.py``) are H.264-encoded in-process by the MoQ client library (PyPI ``moq-rs``,
openh264 inside the wheel) and published with an optional Opus test tone (``tone.py``); see
``__main__.py`` for the options.
"""
