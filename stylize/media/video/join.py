"""Joining video segments encoded elsewhere into one file, with the input's audio, display matrix and timing.

The segments hold the stylised frames already encoded (each begins with a key frame, and their
timestamps are the output's own); their packets are copied, not decoded, and interleaved with the
input's audio packets by time, into a file written the way `VideoWriter` writes any output.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from stylize.errors import InputError, reason
from stylize.media.atomic import atomic_path
from stylize.media.video.reader import AudioPacket, Frame, VideoReader
from stylize.media.video.writer import VideoWriter

if TYPE_CHECKING:
    import av

    from stylize.media.video.codecs import OutputPlan
    from stylize.media.video.probe import VideoInfo


@dataclass(frozen=True)
class Joined:
    """What `join_segments` wrote: the frame count and what happened to each audio stream."""

    frames: int
    audio: tuple[str, ...]


def join_segments(
    src: Path,
    dst: Path,
    parts: Sequence[Path],
    plan: OutputPlan,
    info: VideoInfo,
    size: tuple[int, int],
    *,
    start: float = 0.0,
    duration: float | None = None,
) -> Joined:
    """Write `dst` (atomically) from the segment files `parts`, in order, and the audio of `src`'s range.

    Args:
        src: the input video (its audio and display matrix are taken from it).
        plan: the output's plan (container, codec), as the segments were encoded.
        info: the input's description.
        size: (width, height) of the frames.
        start, duration: the input's range (as `VideoReader` takes them).
    """
    import av

    with VideoReader(src, start=start, duration=duration, audio=False) as probe:
        for picture in probe:  # the display matrix comes with the first decoded picture
            if isinstance(picture, Frame):
                break
        display_matrix = probe.display_matrix
    with (
        VideoReader(src, start=start, duration=duration, audio=plan.audio) as reader,
        av.open(str(parts[0])) as first,
        atomic_path(dst) as temp,
    ):
        writer = VideoWriter(
            replace(plan, path=temp), width=size[0], height=size[1], info=info, display_matrix=display_matrix,
            audio_streams=reader.audio_streams, video_template=first.streams.video[0],
        )  # fmt: skip
        try:
            order = itertools.count()
            video = ((_seconds(p), next(order), p) for p in _video_packets(parts))
            audio = ((_seconds(a.packet), next(order), a) for a in reader.audio_packets())
            entries: Iterator[tuple[float, int, av.Packet | AudioPacket]] = heapq.merge(
                video, audio, key=lambda entry: entry[:2]
            )
            for _, _, item in entries:
                if isinstance(item, AudioPacket):
                    writer.write_audio(item)
                else:
                    writer.write_packet(item)
            notes = tuple(writer.audio_notes)
            frames = writer.frames_written
            writer.close()
        except BaseException:
            writer.abort()
            raise
    return Joined(frames, notes)


def _video_packets(parts: Sequence[Path]) -> Iterator[av.Packet]:
    import av

    for part in parts:
        try:
            with av.open(str(part)) as container:
                for packet in container.demux(container.streams.video[0]):
                    if packet.size:
                        yield packet
        except av.error.FFmpegError as exc:
            raise InputError(part, f"cannot read this segment ({reason(exc)})") from None


def _seconds(packet: av.Packet) -> float:
    stamp = packet.dts if packet.dts is not None else packet.pts
    return float(stamp * packet.time_base) if stamp is not None else 0.0
