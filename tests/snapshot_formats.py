"""Syrupy extensions that store each snapshot as a real file, so a diff reads like the output."""

from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode


class HTMLSnapshot(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "html"


class TextSnapshot(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "txt"


class JSONSnapshot(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "json"


class EmlSnapshot(SingleFileSnapshotExtension):
    """Bytes, exactly as sent (CRLF line ends included)."""

    file_extension = "eml"
