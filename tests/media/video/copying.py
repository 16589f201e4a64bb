"""A video copied through the reader and the writer, without a model, as the video runner does it."""

from __future__ import annotations

from pathlib import Path

from stylize.media.video.codecs import EncodeSettings, plan_output
from stylize.media.video.reader import AudioPacket, VideoReader
from stylize.media.video.writer import VideoWriter


def copy_through(src: Path, dst: Path, settings: EncodeSettings | None = None, invert: bool = False, **reading):
    """Read `src` and write its frames (optionally inverted) to `dst`, as the video job does."""
    plan = plan_output(dst, settings or EncodeSettings())
    with VideoReader(src, **reading) as reader:
        writer, pending = None, []
        for item in reader:
            if isinstance(item, AudioPacket):
                (pending.append(item) if writer is None else writer.write_audio(item))
                continue
            if writer is None:
                h, w = item.image.shape[:2]
                writer = VideoWriter(plan, width=w, height=h, info=reader.info, display_matrix=reader.display_matrix,
                                     audio_streams=reader.audio_streams)  # fmt: skip
                for packet in pending:
                    writer.write_audio(packet)
            writer.write(255 - item.image if invert else item.image, item.pts, item.duration)
        writer.close()
        return reader.warnings, writer.audio_notes
