"""Frames of a video file, decoded with OpenCV into an on-disk cache on demand (resumable, atomic per file).

Video datasets (MMI ships one ``.avi`` per session) are read from the release as downloaded: a reader asks
:class:`VideoFrames` for the frame indices it labels (e.g. the 3 middle frames and the neutral first frame)
and gets image paths; only those frames are decoded and written, so the cache stays small. The cache of
one video is the folder ``cache_root/<video stem>/`` (stable paths, so files keyed by image path, such as
generated references, stay valid):

- ``frames.json`` — ``{"num_frames": N, "video": <file name>, "size": <bytes>, "mtime_ns": ..}``: the frame
  count (counted once by decoding the whole video: container frame counts are not trusted) and the key of the
  video it was decoded from;
- ``000000.png``, ``000001.png`` ... — frame ``i`` (0-based, decode order) as a lossless PNG, BGR as OpenCV
  decodes it.

Every file is written to a temporary name and renamed into place, so an interrupted run leaves only complete
files and a rerun decodes just what is missing (several processes may fill the same cache). A video whose
name, size or modification time differs from the key in ``frames.json`` (re-downloaded, re-encoded) has its
cached frames deleted and decoded again (``frames.json`` is deleted last, so an interrupted clean-up is redone);
copying a release without keeping modification times (``cp`` without ``-p``) therefore re-decodes it once.
Replace videos while no other process reads the cache.
"""
import json
import os
import os.path as osp
from typing import Iterable, List, Optional

import cv2

from fertools.utils.image_io import write_image_atomic
from fertools.utils.atomic_write import write_json_atomic
from .reader_utils import DatasetLayoutError

__all__ = ['VideoFrames', 'VideoDecodeError']

#: Name of the per-video metadata file in the cache.
INFO_FILE = 'frames.json'


class VideoDecodeError(DatasetLayoutError):
    """A video file cannot be opened or decoded by OpenCV."""


class VideoFrames:
    """The frame cache of one video (see the module docstring).

    Args:
        video (str): path of the video file (any container/codec the installed OpenCV decodes).
        cache_root (str): folder that holds this video's cache folder (created when frames are written).

    Attributes:
        dir (str): this video's cache folder, ``cache_root/<video stem>``.
    """

    def __init__(self, video: str, cache_root: str):
        try:
            st = os.stat(video)
        except OSError:
            raise FileNotFoundError(f'video file {video!r} does not exist.') from None
        self.video, self.cache_root = video, cache_root
        self.stem = osp.splitext(osp.basename(video))[0]
        self.dir = osp.join(cache_root, self.stem)
        self._key = dict(video=osp.basename(video), size=st.st_size, mtime_ns=st.st_mtime_ns)
        self._num_frames: Optional[int] = None

    def path(self, index: int) -> str:
        """Cache path of frame ``index`` (0-based)."""
        return osp.join(self.dir, f'{index:06d}.png')

    def cached_num_frames(self) -> Optional[int]:
        """The frame count recorded in the cache, ``None`` when this video (as it is now) was never counted."""
        if self._num_frames is None:
            info = self._read_info()
            if info is not None and self._fresh(info):
                self._num_frames = int(info['num_frames'])
        return self._num_frames

    @property
    def num_frames(self) -> int:
        """Number of decodable frames (from the cache, else counted by decoding the video once)."""
        if self.cached_num_frames() is None:
            cap = self._open()
            n = 0
            while cap.grab():
                n += 1
            cap.release()
            if n == 0:
                raise VideoDecodeError(f'video {self.video!r} has no decodable frame (corrupt file or a codec this '
                                       'OpenCV build lacks); re-download it or re-encode it (e.g. MJPG or H.264).')
            if not self._fresh(self._read_info()):  # frames of another version of the video
                self._clear()
            write_json_atomic(osp.join(self.dir, INFO_FILE), dict(num_frames=n, **self._key))
            self._num_frames = n
        return self._num_frames

    def missing(self, indices: Iterable[int]) -> List[int]:
        """The sorted unique ``indices`` whose frame file is not in the cache yet."""
        return sorted({int(i) for i in indices if not osp.isfile(self.path(int(i)))})

    def extract(self, indices: Optional[Iterable[int]] = None) -> int:
        """Decode the frames ``indices`` (all when ``None``) that are not cached yet; return how many were written.

        Decodes sequentially from the start up to the last missing frame (seeking is not frame-exact in every
        codec). Raises :class:`VideoDecodeError` (naming the file) when the video cannot be opened or ends early.
        """
        n = self.num_frames
        indices = range(n) if indices is None else list(indices)
        bad = [i for i in indices if not 0 <= int(i) < n]
        if bad:
            raise IndexError(f'frame indices {bad} are outside video {self.video!r} ({n} frames).')
        todo = set(self.missing(indices))
        if not todo:
            return 0
        cap = self._open()
        last = max(todo)
        for i in range(last + 1):
            ok = cap.grab()
            img = cap.retrieve()[1] if ok and i in todo else None
            if not ok or (i in todo and img is None):
                cap.release()
                raise VideoDecodeError(f'video {self.video!r} stopped decoding at frame {i} of {n}; re-download '
                                       'it or re-encode it (e.g. MJPG or H.264).')
            if img is not None:
                write_image_atomic(self.path(i), img)
        cap.release()
        return len(todo)

    def _open(self) -> 'cv2.VideoCapture':
        cap = cv2.VideoCapture(self.video)
        if not cap.isOpened():
            raise VideoDecodeError(f'OpenCV cannot open video {self.video!r} (corrupt file or a codec this OpenCV '
                                   'build lacks); re-download it or re-encode it (e.g. MJPG or H.264).')
        return cap

    def _fresh(self, info: Optional[dict]) -> bool:
        """``info`` (a ``frames.json``) is absent or was written for this video as it is now."""
        return info is None or all(info.get(k) == v for k, v in self._key.items())

    def _read_info(self) -> Optional[dict]:
        path = osp.join(self.dir, INFO_FILE)
        if not osp.isfile(path):
            return None
        with open(path) as f:
            return json.load(f)

    def _clear(self) -> None:
        """Delete the frames of another version of the video, then its ``frames.json``."""
        for name in os.listdir(self.dir):
            if name != INFO_FILE:
                os.remove(osp.join(self.dir, name))
        if osp.isfile(osp.join(self.dir, INFO_FILE)):
            os.remove(osp.join(self.dir, INFO_FILE))
