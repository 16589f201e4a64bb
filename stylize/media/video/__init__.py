"""Video files with PyAV: `codecs` (what stylize writes, checked before any work), `probe` (a file's
header), `reader` (frames with timestamps, audio packets) and `writer` (H.264 in MP4, yuv420p, by
default; the audio copied unchanged). Import from the module that holds the name.

The video is stylised in its coded orientation and the input's display matrix (rotation, flips)
is written to the output, so players turn it exactly as they turned the input.
"""
